// arch/arm64/include/asm/mmu_context.h and arch/arm64/mm/context.c
// (`check_and_switch_context`), Linux 4.16 (docs/sources/arm64-kpti.md §3,
// docs/sources/arm64-asid-and-arm-arm.md §1).

import { isb, lock, msr, note, unlock, type Hook } from '../../../arch/arm64/ops.ts';
import { ttbr } from '../../../arch/arm64/sysreg.ts';
import { ASID, type Mm, type Task } from '../../../kernel/task.ts';
import type { Arm64Ctx } from '../types.ts';
import { localFlushTlbAll } from './tlbflush.ts';

/** `cpu_set_reserved_ttbr0`: TTBR0 := `empty_zero_page`, then `isb()`. */
export function* cpuSetReservedTtbr0(c: Arm64Ctx): Hook {
  yield msr('TTBR0_EL1', ttbr(c.sym.empty_zero_page.pa, 0));
  yield isb();
}

/** `update_saved_ttbr0`: what `__uaccess_ttbr0_enable` will install (SW PAN only). */
export function updateSavedTtbr0(c: Arm64Ctx, tsk: Task | undefined, mm: Mm | undefined): void {
  if (!c.opts.swPan || !tsk) return;
  tsk.ttbr0 = mm ? ttbr(mm.pgd, 0) | (BigInt(ASID(mm)) << 48n) : ttbr(c.sym.empty_zero_page.pa, 0);
}

/** The choices a variant of `check_and_switch_context` makes. */
export interface SwitchContextOps {
  /** `cpu_switch_mm(mm->pgd, mm)`, the arch-specific register switch. */
  cpuSwitchMm(c: Arm64Ctx, mm: Mm): Hook;
  /** Honour `tlb_flush_pending` with `local_flush_tlb_all()` (false only in a broken variant). */
  readonly flushPending: boolean;
}

/**
 * `check_and_switch_context(mm, cpu)`, with the 4.16 `atomic64_xchg_relaxed`
 * fast path. Simplification: each stretch of allocator code between two ops
 * runs atomically, so the fast path's xchg cannot interleave with
 * `flush_context` on another CPU at a finer grain than the ops around it.
 */
export function* checkAndSwitchContext(c: Arm64Ctx, mm: Mm, ops: SwitchContextOps): Hook {
  const a = c.asid;
  let asid = mm.contextId;
  if (!(a.isCurrent(asid) && xchg(a.active, c.cpu, asid) !== 0)) {
    yield lock('cpu_asid_lock'); // raw_spin_lock_irqsave
    asid = mm.contextId;
    if (!a.isCurrent(asid)) {
      asid = a.newContext(asid);
      mm.contextId = asid;
      yield note(`new_context: mm ${mm.id} gets ASID ${asid % a.ASID_FIRST_VERSION} (generation ${Math.floor(asid / a.ASID_FIRST_VERSION)})`);
    }
    if (a.tlbFlushPending.delete(c.cpu) && ops.flushPending) yield* localFlushTlbAll();
    a.active[c.cpu] = asid;
    yield unlock('cpu_asid_lock');
  }
  // Defer TTBR0_EL1 setting for user threads to uaccess_enable() when emulating PAN.
  if (!c.opts.swPan) yield* ops.cpuSwitchMm(c, mm);
}

/** `switch_mm(prev, next, tsk)` -> `__switch_mm(next)`; `next` undefined is `init_mm`. */
export function* switchMm(c: Arm64Ctx, prev: Mm | undefined, next: Mm | undefined, tsk: Task | undefined, ops: SwitchContextOps): Hook {
  if (prev !== next) {
    if (!next) yield* cpuSetReservedTtbr0(c);
    else yield* checkAndSwitchContext(c, next, ops);
  }
  updateSavedTtbr0(c, tsk, next);
}

/** `atomic64_xchg_relaxed(&per_cpu(active_asids, cpu), asid)`. */
function xchg(active: number[], cpu: number, asid: number): number {
  const old = active[cpu];
  active[cpu] = asid;
  return old;
}
