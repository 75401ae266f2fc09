// What an x86-64 mitigation module provides: generator hooks called where
// Linux 4.15 calls the code that PTI changes (arch/x86/entry/calling.h,
// arch/x86/include/asm/tlbflush.h, arch/x86/mm/tlb.c, arch/x86/mm/pti.c),
// the CPU features it needs, and the invariants it claims. Hooks may only
// yield x86 ops (model/arch/x86/ops.ts).

import type { Hook } from '../../arch/x86/ops.ts';
import type { VA } from '../../arch/va.ts';
import type { PhysMem } from '../../arch/phys.ts';
import type { X86Pte } from '../../arch/x86/pte.ts';
import type { InvariantId } from '../../claims.ts';
import type { KernelOptions } from '../../kernel/kernel.ts';
import type { Mm, Task } from '../../kernel/task.ts';
import type { Expectation } from '../arm64/types.ts';
import type { X86Symbols } from '../../kernel/x86/image.ts';
import type { TlbState } from '../../kernel/x86/tlbstate.ts';
import type { LdtStruct } from '../../kernel/x86/ldt.ts';

/** Kernel configuration a run uses; stored with every counterexample. */
export interface X86Options extends KernelOptions {
  /** X86_FEATURE_PCID (and CR4.PCIDE). */
  readonly pcid: boolean;
  /** X86_FEATURE_INVPCID_SINGLE: `__flush_tlb_one_user` uses INVPCID for the user PCID. */
  readonly invpcid: boolean;
  /** KASLR: the kernel image's virtual offset from `__START_KERNEL`, a multiple of 2 MiB. */
  readonly kaslr: number;
  /**
   * Dynamic ASID slots per CPU: `TLB_NR_DYN_ASIDS` (6). Like arm64's
   * `asidBits`, it can be scaled down so that 40-event workloads hand a slot
   * from one mm to another.
   */
  readonly dynAsids: number;
}

/** What a hook can see: the kernel state the C function or entry macro would reach. */
export interface X86Ctx {
  /** `smp_processor_id()`. */
  readonly cpu: number;
  readonly sym: X86Symbols;
  readonly opts: X86Options;
  /** `this_cpu_ptr(&cpu_tlbstate)`. */
  readonly tlbstate: TlbState;
  /** `current`, or undefined in the idle task. */
  readonly current: Task | undefined;
  /** Physical memory, for boot-time layout hooks (`pti_init`). */
  readonly mem: PhysMem<X86Pte>;
  /** X86_FEATURE_PTI as the mitigation sets it. */
  readonly pti: boolean;
  /** `mm_cpumask(mm)`: CPUs that may hold the mm's entries and get its flush IPIs. */
  cpumask(mm: Mm): Set<number>;
  /** Ghost: `choose_new_asid` took a slot that held another mm (for statistics). */
  asidReused(): void;
  /** `flush_tlb_mm_range(mm, start, end)` (arch/x86/mm/tlb.c, the kernel's). */
  flushTlbMmRange(mm: Mm, start: VA, end: VA): Hook;
  /** `flush_tlb_kernel_range(start, end)`: every online CPU, this mitigation's `flushTlbOneKernel` per page. */
  flushTlbKernelRange(start: VA, end: VA): Hook;
}

export interface X86Hooks {
  /** Boot CPU setup: CR4 (PGE, PCIDE when X86_FEATURE_PCID), CR3 = init_top_pgt. */
  cpuSetup(c: X86Ctx): Hook;
  /** Boot-time layout after the kernel tables exist (`pti_init`), run once on CPU 0 before any task starts. */
  layout?(c: X86Ctx): Hook;
  /** `SWITCH_TO_KERNEL_CR3` at entry from user mode (entry_SYSCALL_64, interrupt and exception entry). */
  switchToKernelCr3(c: X86Ctx): Hook;
  /** `SWITCH_TO_USER_CR3_STACK` / `_NOSTACK` on the way back to user mode. */
  switchToUserCr3(c: X86Ctx): Hook;
  /** `SAVE_AND_SWITCH_TO_KERNEL_CR3` (paranoid entry: NMI); returns the saved CR3 (the save_reg). */
  saveAndSwitchToKernelCr3(c: X86Ctx): Hook<bigint | undefined>;
  /** `RESTORE_CR3` at paranoid exit, given what was saved. */
  restoreCr3(c: X86Ctx, saved: bigint | undefined): Hook;
  /** `switch_mm_irqs_off(prev, next, tsk)`; `next` undefined is `init_mm`. */
  switchMmIrqsOff(c: X86Ctx, prev: Mm | undefined, next: Mm | undefined, tsk: Task | undefined): Hook;
  /** `__flush_tlb_one_user(addr)` (4.15: `__flush_tlb_single`). */
  flushTlbOneUser(c: X86Ctx, addr: VA): Hook;
  /** `__flush_tlb_one_kernel(addr)` (4.15: `__flush_tlb_one`). */
  flushTlbOneKernel(c: X86Ctx, addr: VA): Hook;
  /** `__flush_tlb` / `local_flush_tlb`: flush the current (user) mapping. */
  flushTlbLocal(c: X86Ctx): Hook;
  /** `__flush_tlb_all`: everything, globals included. */
  flushTlbAll(c: X86Ctx): Hook;
  /** `map_ldt_struct`: map a new LDT into its slot (PTI). */
  mapLdtStruct(c: X86Ctx, mm: Mm, ldt: LdtStruct): Hook;
  /** `unmap_ldt_struct`: unmap the old LDT's slot before its page is freed (PTI). */
  unmapLdtStruct(c: X86Ctx, mm: Mm, ldt: LdtStruct): Hook;
  /** `ds_update_cea`: map a PEBS buffer page at `cea` in a cpu_entry_area. */
  dsUpdateCea(c: X86Ctx, cea: VA, pa: number): Hook;
  /** `ds_clear_cea`: unmap it, before the page is freed. */
  dsClearCea(c: X86Ctx, cea: VA): Hook;
}

export interface X86Mitigation {
  /** Stable id: `x86/pti-pcid`, `x86/broken/...`. */
  readonly id: string;
  readonly arch: 'x86';
  readonly title: string;
  /** What it reproduces or reverses: a commit, patch or file. */
  readonly source: string;
  readonly claims: readonly InvariantId[];
  readonly expect?: Expectation;
  readonly options?: Partial<X86Options>;
  /** X86_FEATURE_PTI: 8 KiB PGD pairs, `__pti_set_user_pgd`, non-global kernel mappings. */
  readonly pti: boolean;
  /**
   * `_PAGE_GLOBAL` on the kernel image (`__default_kernel_pte_mask` keeps it),
   * as without PTI; under PTI only a broken mitigation sets it.
   */
  readonly globalKernel: boolean;
  /** `_PAGE_GLOBAL` on the user-shared parts (4.17 "x86/pti: enable global pages for shared areas"). */
  readonly globalShared: boolean;
  /** Physical frames user mode may reach besides its own: the declared user-shared set. */
  userShared(sym: X86Symbols): readonly number[];
  readonly hooks: X86Hooks;
}
