// The user-shared set PTI declares (x86-pti.md §2b "what the user page
// tables contain"): the entry text's 2 MiB PMD, every frame aliased in the
// cpu_entry_area (IDT, GDT, entry stack, TSS, entry trampoline, exception
// stacks) and the ESPFIX stack. The per-mm LDT remap is the task's own
// (see X86View.perMmShared, which applies the same never-secret rule to it).

import type { Sym, X86Symbols } from '../../../kernel/x86/image.ts';
import { CEA_PAGES, PMD_SIZE } from '../../../kernel/x86/layout.ts';

const pages = (pa: number, n: number): number[] => Array.from({ length: n }, (_, i) => pa + i * 4096);

export function ptiUserShared(sym: X86Symbols): number[] {
  return [
    ...pages(sym.entry_text.pa, PMD_SIZE / 4096), sym.idt_table.pa, sym.entry_trampoline.pa, sym.espfix_stack.pa,
    ...sym.percpu.flatMap((p) => [...pages(p.gdt, 1), ...pages(p.entry_stack, 1), ...pages(p.tss, CEA_PAGES.tss), ...pages(p.exception_stacks, CEA_PAGES.exception_stacks)]),
  ];
}

/** The image frames `pti_clone_kernel_text` adds, from `_text` to `end`. */
export const kernelTextShared = (sym: X86Symbols, end: Sym): number[] => pages(sym._text.pa, (end.pa - sym._text.pa) / 4096);
