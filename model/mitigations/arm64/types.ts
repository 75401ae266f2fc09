// What an arm64 mitigation module provides: generator hooks called where
// Linux calls arch code, the layout choices it makes at boot, and the
// invariants it claims. Hooks may only yield hardware ops (model/arch/arm64/ops.ts).

import type { Hook } from '../../arch/arm64/ops.ts';
import type { VA } from '../../arch/va.ts';
import type { InvariantId } from '../../claims.ts';
import type { AsidAllocator } from '../../kernel/arm64/asid.ts';
import type { Symbols } from '../../kernel/arm64/image.ts';
import type { PhysMem } from '../../arch/phys.ts';
import type { Descriptor } from '../../arch/arm64/descriptor.ts';
import type { Mm, Task } from '../../kernel/task.ts';

/** Kernel configuration a run uses; stored with every counterexample. */
export interface Arm64Options {
  /** Number of CPUs (2 or more). */
  readonly ncpus: number;
  /** `asid_bits` (and the hardware ASID width): small so rollovers happen. */
  readonly asidBits: number;
  /** CONFIG_ARM64_SW_TTBR0_PAN on a CPU without hardware PAN. */
  readonly swPan: boolean;
  /** Most live tasks; fork and clone fail with EAGAIN beyond it. */
  readonly maxTasks: number;
  /** Processes started at boot: one running per CPU, the rest runnable. */
  readonly bootTasks: number;
}

/** Boot-time state shared by the CPUs (`kpti_applied`, `__idmap_kpti_flag`, stop_machine's counters). */
export interface BootState {
  /** `kpti_applied` / `arm64_use_ng_mappings`: the nG rewrite has been done, and new kernel mappings are nG. */
  ngMappings: boolean;
  /** `__idmap_kpti_flag`: starts at 1; secondaries count in; the boot CPU zeroes it when done. */
  idmapKptiFlag: number;
  /** CPUs that reached the stop_machine rendezvous, and that finished its callback. */
  stopArrived: number;
  stopDone: number;
  /** CPU 0 has run the initcalls (`map_entry_trampoline`): secondaries may start tasks. */
  initcallsDone: boolean;
  /** Ghost: CPU 0's nG rewrite is in flight (from its first global -> nG store until it releases the others, or is done). */
  rewriting: boolean;
}

/** What a hook can see: the kernel state a C function would reach. */
export interface Arm64Ctx {
  /** `smp_processor_id()`. */
  readonly cpu: number;
  /** Kernel symbols (addresses of tables, vectors, trampoline). */
  readonly sym: Symbols;
  /** context.c state. */
  readonly asid: AsidAllocator;
  readonly opts: Arm64Options;
  /** `current`, or undefined in the idle task. */
  readonly current: Task | undefined;
  /** Physical memory, for boot-time layout hooks. */
  readonly mem: PhysMem<Descriptor>;
  /** `PTE_MAYBE_NG`: whether default kernel protections carry nG now. */
  readonly nG: boolean;
  /** Boot-time shared state. */
  readonly boot: BootState;
}

/** The exception vector taken. */
export type Vector = 'sync' | 'irq';

export interface Arm64Hooks {
  /** `__cpu_setup` and the first switch to swapper: TCR_EL1, TTBR1_EL1, VBAR_EL1 at boot. */
  cpuSetup(c: Arm64Ctx): Hook;
  /** Boot-time layout (`map_entry_trampoline`, a core_initcall): CPU 0 runs it once, before any task starts. */
  layout?(c: Arm64Ctx): Hook;
  /**
   * The `.cpu_enable` callback of ARM64_UNMAP_KERNEL_AT_EL0 that rewrites the
   * global boot mappings nG (`kpti_install_ng_mappings`): every CPU runs it
   * in stop_machine context, after all CPUs are up.
   */
  installNgMappings?(c: Arm64Ctx): Hook;
  /** From the vector to C code, for an exception from EL0 (`tramp_ventry`, `kernel_ventry`, `kernel_entry 0`). */
  el0Entry(c: Arm64Ctx, v: Vector): Hook;
  /** `kernel_exit 0` (and `tramp_exit`): ends with `eret` to EL0. */
  el0Exit(c: Arm64Ctx): Hook;
  /** `kernel_entry 1` for an IRQ taken at EL1; returns what it saved (as entry.S keeps it in x23). */
  el1Entry(c: Arm64Ctx): Hook<unknown>;
  /** `kernel_exit 1`, given what `el1Entry` saved: ends with `eret` to EL1. */
  el1Exit(c: Arm64Ctx, saved: unknown): Hook;
  /** `switch_mm(prev, next, tsk)`; `next` undefined is `init_mm`. */
  switchMm(c: Arm64Ctx, prev: Mm | undefined, next: Mm | undefined, tsk: Task | undefined): Hook;
  /** `flush_tlb_mm`. */
  flushTlbMm(c: Arm64Ctx, mm: Mm): Hook;
  /** `flush_tlb_page`. */
  flushTlbPage(c: Arm64Ctx, mm: Mm, uaddr: VA): Hook;
  /** `__flush_tlb_range(vma, start, end, last_level)`. */
  flushTlbRange(c: Arm64Ctx, mm: Mm, start: VA, end: VA, lastLevel: boolean): Hook;
  /** `uaccess_enable` (`__uaccess_ttbr0_enable` under SW PAN). */
  uaccessEnable(c: Arm64Ctx): Hook;
  /** `uaccess_disable`. */
  uaccessDisable(c: Arm64Ctx): Hook;
}

/** For a deliberately broken mitigation: what it must be caught violating. */
export interface Expectation {
  /** Invariants it must be shown to violate; the first is the headline. */
  readonly violates: readonly InvariantId[];
  /** Id of the correct twin that must pass the same counterexample. */
  readonly twin: string;
}

export interface Arm64Mitigation {
  /** Stable id: `arm64/kpti`, `arm64/broken/...`. */
  readonly id: string;
  readonly arch: 'arm64';
  /** One line: what it is. */
  readonly title: string;
  /** What it reproduces or reverses: a commit, patch or file. */
  readonly source: string;
  /** Invariants it claims to hold. */
  readonly claims: readonly InvariantId[];
  /** Set for broken mitigations. */
  readonly expect?: Expectation;
  /** Kernel configuration it needs, over the defaults. */
  readonly options?: Partial<Arm64Options>;
  /** `PTE_MAYBE_NG`: kernel mappings non-global. */
  readonly nG: boolean;
  /** CONFIG_UNMAP_KERNEL_AT_EL0: ASID pairs and `tramp_pg_dir`. */
  readonly unmapKernelAtEl0: boolean;
  /** The ID map the boot code builds (`idmap_pg_dir`): `rwx` as head.S did before 2022, `rox` after. */
  readonly idmap?: 'rwx' | 'rox';
  /** Physical frames EL0 may reach besides its own: the declared user-shared set. */
  userShared(sym: Symbols): readonly number[];
  readonly hooks: Arm64Hooks;
}

export type Mitigation = Arm64Mitigation;
