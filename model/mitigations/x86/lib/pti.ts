// `pti_init` (arch/x86/mm/pti.c; x86-pti.md §2b-2c): fill the user copy of
// `init_top_pgt` with what entry and exit need. `pti_clone_user_shared`
// and `pti_setup_espfix64` copy the cpu_entry_area and ESPFIX top-level
// entries (sharing everything below them); `pti_clone_entry_text` copies
// the entry text's PMD into freshly allocated user tables, read-only. Each
// new mm's `pgd_ctor` copies this kernel half. Not modelled: the vsyscall
// page (`pti_setup_vsyscall`).

import type { VA } from '../../../arch/va.ts';
import { note, type Hook } from '../../../arch/x86/ops.ts';
import { tableIndex } from '../../../arch/x86/walk.ts';
import { CPU_ENTRY_AREA_BASE, ESPFIX_BASE_ADDR, PMD_SIZE } from '../../../kernel/x86/layout.ts';
import { allocEntry, entryPtr, PTI_USER_PGD_OFFSET, setEntry } from '../../../kernel/x86/pgtable.ts';
import type { X86Ctx } from '../types.ts';

/** `pti_clone_p4d(addr)`: with 4-level paging the p4d is the PGD entry: `*user_p4d = *kernel_p4d`. */
export function* ptiCloneP4d(c: X86Ctx, addr: VA): Hook {
  const kernel = c.sym.init_top_pgt.pa, i = tableIndex(addr, 0);
  yield* setEntry({ table: kernel + PTI_USER_PGD_OFFSET, index: i, level: 0 }, c.mem.readEntry(kernel, i)!);
}

/**
 * `pti_clone_pmds(start, end, clear)`: for each populated kernel PMD, walk
 * (allocating) the user tables to the PMD and copy it with `clear` bits
 * removed. With `global` (4.17 "x86/pti: enable global pages for shared
 * areas") the kernel PMD is made `_PAGE_GLOBAL` first, so both copies are;
 * in 4.15 `clear` also held `_PAGE_GLOBAL`.
 */
export function* ptiClonePmds(c: X86Ctx, start: VA, end: VA, global: boolean): Hook {
  const kernel = c.sym.init_top_pgt.pa;
  for (let addr = start; addr < end; addr += PMD_SIZE) {
    const kp = entryPtr(c.mem, kernel, addr, 2);
    const pmd = kp && c.mem.readEntry(kp.table, kp.index);
    if (!kp || !pmd?.P) continue;
    // pti_user_pagetable_walk_pmd: _KERNPG_TABLE entries; set_pgd on the user copy's kernel half is a plain store.
    const target = yield* allocEntry(c.mem, kernel + PTI_USER_PGD_OFFSET, addr, { owner: 'init_top_pgt (user)', level: 2, user: false, pti: false });
    const shared = global ? { ...pmd, G: true } : pmd;
    if (global) yield* setEntry(kp, shared);
    yield* setEntry(target, { ...shared, RW: false });
  }
}

/**
 * `pti_clone_kernel_text` (4.17 "x86/pti: Leave kernel text global for
 * !PCID"; x86-pti.md §2b), run from `mark_rodata_ro` when
 * `pti_kernel_image_global_ok()` (no PCID, `pti=auto`): the image from
 * `_text` to `end` is cloned into the user tables and made global, to save
 * TLB misses on CPUs whose every CR3 write flushes. 4.17 as merged stops at
 * `__end_rodata_hpage_align`: text and rodata, never data.
 */
export function* ptiCloneKernelText(c: X86Ctx, end: VA): Hook {
  yield note('pti_clone_kernel_text: pti_clone_pmds(_text, end, _PAGE_RW); set_memory_global');
  yield* ptiClonePmds(c, c.sym._text.va, end, true);
}

/** The steps of `pti_init`, by their Linux names (4.15 arch/x86/mm/pti.c). */
export type PtiInitStep = 'pti_clone_user_shared' | 'pti_clone_entry_text' | 'pti_setup_espfix64';
const STEPS: Record<PtiInitStep, (c: X86Ctx, globalShared: boolean) => Hook> = {
  // The cpu_entry_area's P4D: IDT, GDT, TSS, entry stack, trampoline, exception stacks.
  pti_clone_user_shared: (c) => ptiCloneP4d(c, CPU_ENTRY_AREA_BASE),
  pti_clone_entry_text: (c, g) => ptiClonePmds(c, c.sym.entry_text.va, c.sym.entry_text.va + PMD_SIZE, g),
  // "Clone the ESPFIX P4D into the user space visible page table".
  pti_setup_espfix64: (c) => ptiCloneP4d(c, ESPFIX_BASE_ADDR),
};

/** `pti_init`. `globalShared`: 4.17's global entry text (4.15: none). `omit`: steps a broken mitigation leaves out. */
export function* ptiInit(c: X86Ctx, globalShared: boolean, omit: readonly PtiInitStep[] = []): Hook {
  if (!c.pti) return; // "if (!static_cpu_has(X86_FEATURE_PTI)) return;"
  const steps = (Object.keys(STEPS) as PtiInitStep[]).filter((s) => !omit.includes(s));
  yield note(`pti_init: ${steps.join(', ')}`);
  for (const s of steps) yield* STEPS[s](c, globalShared);
}
