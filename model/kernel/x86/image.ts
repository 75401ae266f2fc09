// The booted x86-64 kernel: the image mapping of head_64.S
// (`level3_kernel_pgt`, `level2_kernel_pgt`: 2 MiB pages), the direct map
// of all RAM (`init_memory_mapping`), the cpu_entry_area of every CPU
// (`setup_cpu_entry_areas`, `cea_set_pte`) and the ESPFIX stacks
// (`init_espfix_bsp`), all in `init_top_pgt`. The user copy of
// `init_top_pgt` is filled later by the mitigation's `pti_init`. A handful
// of frames in each region carry the symbols the model uses; layout.ts has
// the addresses. Simplifications: physical KASLR is not modelled (only the
// virtual offset), per-CPU data lives in ordinary frames reached through
// the direct map, and the image's other sections share one data PMD.

import { PhysMem, type Label } from '../../arch/phys.ts';
import type { VA } from '../../arch/va.ts';
import { mayBeTable, type X86Pte } from '../../arch/x86/pte.ts';
import { allocEntry, runAtBoot, setEntry, PTI_USER_PGD_OFFSET } from './pgtable.ts';
import { PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_KERNEL_RX, large } from './prot.ts';
import {
  CEA, CEA_PAGES, CPU_ENTRY_AREA_RO_IDT, ESPFIX_BASE_ADDR, PAGE_OFFSET, PHYSICAL_START, PMD_SIZE, RAM_SIZE, START_KERNEL_MAP, cpuEntryArea, physToVirt,
} from './layout.ts';

/** A kernel symbol: where it lives physically and the VA the kernel uses. */
export interface Sym {
  readonly pa: number;
  readonly va: VA;
}

/** A CPU's per-CPU frames, aliased into its cpu_entry_area. */
export interface PerCpu {
  /** `gdt_page`. */
  readonly gdt: number;
  /** `entry_stack_storage`: the trampoline stack that SYSCALL and entry from CPL 3 use first. */
  readonly entry_stack: number;
  /** `cpu_tss_rw`: three pages. */
  readonly tss: number;
  /** `exception_stacks`: six pages (the IST stacks; NMI's is the second). */
  readonly exception_stacks: number;
}

/** What the boot code leaves for the mitigations, the kernel layer and the invariants. */
export interface X86Symbols {
  /** `init_top_pgt` (`swapper_pg_dir`); under PTI the user copy follows it (8 KiB pair). */
  readonly init_top_pgt: Sym;
  /** `_text`: the start of the image. */
  readonly _text: Sym;
  /** `__entry_text_start`: entry_SYSCALL_64, the interrupt entries and the return paths, alone in a 2 MiB PMD (`ALIGN_ENTRY_TEXT_BEGIN`). */
  readonly entry_text: Sym;
  /** `_entry_trampoline`: the page holding `entry_SYSCALL_64_trampoline` (4.15), aliased in each cpu_entry_area. */
  readonly entry_trampoline: Sym;
  /** `init_task`, task stacks, `jiffies`: ordinary kernel data. */
  readonly init_task: Sym;
  /** `__end_rodata_hpage_align`: the end of text and rodata, rounded up to 2 MiB (here the start of the data PMD). */
  readonly __end_rodata_hpage_align: Sym;
  /** `_end` rounded up to 2 MiB (`ALIGN(_end, PMD_PAGE_SIZE)`): the end of the image, data and bss included. */
  readonly _end: Sym;
  /** `primary_crng`: the secret the kernel must not leak. */
  readonly primary_crng: Sym;
  /** `idt_table`, aliased read-only at `CPU_ENTRY_AREA_RO_IDT`. */
  readonly idt_table: Sym;
  /** One ESPFIX ministack page. */
  readonly espfix_stack: Sym;
  /** Per-CPU frames, by CPU. */
  readonly percpu: readonly PerCpu[];
}

export interface ImageConfig {
  /** X86_FEATURE_PTI: an 8 KiB `init_top_pgt` pair. */
  readonly pti: boolean;
  /** `_PAGE_GLOBAL` on the kernel image (the direct map has it exactly when PTI is off). */
  readonly globalKernel: boolean;
  /** `_PAGE_GLOBAL` on the cpu_entry_area and ESPFIX (without PTI everything is global). */
  readonly globalShared: boolean;
  /** Virtual KASLR offset of the image (a multiple of 2 MiB). */
  readonly kaslr: number;
  readonly ncpus: number;
}

/** Image PMDs after `_text`: six of text, the entry text, the text holding `_entry_trampoline`, then data. */
const ENTRY_TEXT_PMD = 6, TRAMPOLINE_PMD = 7, DATA_PMD = 8;
/** A representative ESPFIX stack address (the base is randomised; this one is from the 4.18 ptdump sample). */
export const ESPFIX_STACK_VA: VA = ESPFIX_BASE_ADDR + 0x3b_0000_5000;

/** The VA of image offset `off` from `_text`, with the KASLR offset. */
export const imageVa = (kaslr: number, off: number): VA => START_KERNEL_MAP + PHYSICAL_START + kaslr + off;

/** Frames of one kind allocated in a row, named `${name} +i`. */
function frames(mem: PhysMem<X86Pte>, n: number, label: Label, name: string): number {
  const first = mem.alloc(label, n > 1 ? `${name} +0` : name);
  for (let i = 1; i < n; i++) mem.alloc(label, `${name} +${i}`);
  return first;
}

/** `pgd_alloc`'s order-1 pair under PTI (the kernel PGD, then the user PGD at +4096), or one page. */
export function pgdPages(mem: PhysMem<X86Pte>, name: string, pti: boolean): number {
  if (!pti) return mem.alloc('page-table', name, true);
  const pa = mem.allocContiguous(2, 'page-table', name, true);
  mem.frame(pa)!.name = name;
  mem.frame(pa + PTI_USER_PGD_OFFSET)!.name = `${name} (user)`;
  return pa;
}

export function bootImage(cfg: ImageConfig): { mem: PhysMem<X86Pte>; sym: X86Symbols } {
  const mem = new PhysMem<X86Pte>(0, RAM_SIZE, mayBeTable);
  const img = (pmd: number, off: number, label: Label, name: string): Sym => {
    const pa = mem.claim(PHYSICAL_START + pmd * PMD_SIZE + off, label, name);
    return { pa, va: imageVa(cfg.kaslr, pmd * PMD_SIZE + off) };
  };
  /** The start of image PMD `pmd`, as a symbol with no frame claimed. */
  const imageSym = (pmd: number): Sym => ({ pa: PHYSICAL_START + pmd * PMD_SIZE, va: imageVa(cfg.kaslr, pmd * PMD_SIZE) });
  const _text = img(0, 0, 'kernel-text', '_text');
  for (let i = 1; i < ENTRY_TEXT_PMD; i++) img(i, 0, 'kernel-text', `_text+${2 * i}M`);
  const entry_text = img(ENTRY_TEXT_PMD, 0, 'kernel-text', '__entry_text_start');
  const entry_trampoline = img(TRAMPOLINE_PMD, 0, 'kernel-text', '_entry_trampoline');
  const init_task = img(DATA_PMD, 0, 'kernel-data', 'init_task');
  const primary_crng = img(DATA_PMD, 0x1000, 'kernel-secret', 'primary_crng');
  const idt_table = img(DATA_PMD, 0x2000, 'entry-area', 'idt_table');

  const root = pgdPages(mem, 'init_top_pgt', cfg.pti);
  const kernel = (va: VA, level: number) => runAtBoot(mem, allocEntry(mem, root, va, { owner: 'init_top_pgt', level, user: false, pti: cfg.pti }));
  const set = (va: VA, level: number, e: X86Pte) => runAtBoot(mem, setEntry(kernel(va, level), e));

  // head_64.S: the image in 2 MiB pages; `mark_rodata_ro` has made text RX and data NX.
  for (let i = 0; i <= DATA_PMD; i++) {
    const pa = PHYSICAL_START + i * PMD_SIZE, va = imageVa(cfg.kaslr, i * PMD_SIZE);
    set(va, 2, large(i === DATA_PMD ? PAGE_KERNEL(pa, cfg.globalKernel) : PAGE_KERNEL_RX(pa, cfg.globalKernel)));
  }
  // init_memory_mapping: the direct map of RAM in 2 MiB pages.
  for (let pa = 0; pa < RAM_SIZE; pa += PMD_SIZE) set(physToVirt(pa), 2, large(PAGE_KERNEL(pa, !cfg.pti)));

  // setup_cpu_entry_areas: the read-only IDT, then each CPU's area (cea_set_pte; x86-pti.md §2c, §6c).
  const G = !cfg.pti || cfg.globalShared;
  set(CPU_ENTRY_AREA_RO_IDT, 3, PAGE_KERNEL_RO(idt_table.pa, G));
  const percpu: PerCpu[] = [];
  for (let cpu = 0; cpu < cfg.ncpus; cpu++) {
    const p: PerCpu = {
      gdt: frames(mem, 1, 'entry-area', `gdt_page(cpu${cpu})`),
      entry_stack: frames(mem, 1, 'entry-area', `entry_stack_storage(cpu${cpu})`),
      tss: frames(mem, CEA_PAGES.tss, 'entry-area', `cpu_tss_rw(cpu${cpu})`),
      exception_stacks: frames(mem, CEA_PAGES.exception_stacks, 'entry-area', `exception_stacks(cpu${cpu})`),
    };
    percpu.push(p);
    const base = cpuEntryArea(cpu);
    const map = (off: number, pages: number, pa: number, prot: (a: number, g: boolean) => X86Pte) => {
      for (let i = 0; i < pages; i++) set(base + off + i * 4096, 3, prot(pa + i * 4096, G));
    };
    map(CEA.gdt, 1, p.gdt, PAGE_KERNEL_RO);
    map(CEA.entry_stack_page, 1, p.entry_stack, PAGE_KERNEL);
    map(CEA.tss, CEA_PAGES.tss, p.tss, PAGE_KERNEL_RO);
    map(CEA.entry_trampoline, 1, entry_trampoline.pa, PAGE_KERNEL_RX);
    map(CEA.exception_stacks, CEA_PAGES.exception_stacks, p.exception_stacks, PAGE_KERNEL);
  }
  // init_espfix_bsp / init_espfix_ap: a read-only ministack page ("__PAGE_KERNEL_RO ... & ptemask").
  const espfix = frames(mem, 1, 'entry-area', 'espfix stack');
  set(ESPFIX_STACK_VA, 3, PAGE_KERNEL_RO(espfix, G));

  const sym: X86Symbols = {
    init_top_pgt: { pa: root, va: physToVirt(root) }, _text, entry_text, entry_trampoline, init_task, primary_crng, idt_table,
    __end_rodata_hpage_align: imageSym(DATA_PMD), _end: imageSym(DATA_PMD + 1),
    espfix_stack: { pa: espfix, va: ESPFIX_STACK_VA }, percpu,
  };
  return { mem, sym };
}

