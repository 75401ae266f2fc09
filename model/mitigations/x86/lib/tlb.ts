// Context switch as arch/x86/mm/tlb.c (4.15; x86-pti.md §5) does it:
// `switch_mm_irqs_off`, `choose_new_asid`, `load_new_mm_cr3`, `build_cr3`.
// An mm keeps its ASID slot on a CPU while the slot's `ctx_id` matches; a
// slot whose `tlb_gen` is behind the mm's is flushed on the way in; a new
// slot is taken round-robin and always flushed (SDM §4.10.4.2: a PCID "used
// earlier for a different linear-address space" must be loaded without
// NOFLUSH). Simplification: lazy TLB mode is not modelled (the idle task
// loads init_mm).

import { cr3Value } from '../../../arch/x86/cpu.ts';
import { movCr3, note, type Hook } from '../../../arch/x86/ops.ts';
import type { Mm, Task } from '../../../kernel/task.ts';
import { INIT_MM_CTX_ID, kernPcid } from '../../../kernel/x86/tlbstate.ts';
import type { X86Ctx } from '../types.ts';
import { invalidateUserAsid } from './tlbflush.ts';

/** `build_cr3(pgd, asid)`, or `build_cr3_noflush` when `noflush`. */
export const buildCr3 = (c: X86Ctx, pgd: number, asid: number, noflush = false): bigint =>
  c.opts.pcid ? cr3Value(pgd, kernPcid(asid), noflush) : cr3Value(pgd, 0);

/** `clear_asid_other`: make every slot but the loaded one flush at its next use. */
function clearAsidOther(c: X86Ctx): void {
  const ts = c.tlbstate;
  for (let asid = 0; asid < ts.ctxs.length; asid++) if (asid !== ts.loaded_mm_asid) ts.ctxs[asid].ctx_id = 0;
  ts.invalidate_other = false;
}

/** What `choose_new_asid` decides. */
export interface AsidChoice { readonly asid: number; readonly needFlush: boolean }

/** `choose_new_asid(next, next_tlb_gen, &new_asid, &need_flush)`. */
export function chooseNewAsid(c: X86Ctx, ctxId: number, nextTlbGen: number): AsidChoice {
  const ts = c.tlbstate;
  if (!c.opts.pcid) return { asid: 0, needFlush: true };
  if (ts.invalidate_other) clearAsidOther(c);
  for (let asid = 0; asid < ts.ctxs.length; asid++) {
    if (ts.ctxs[asid].ctx_id !== ctxId) continue;
    return { asid, needFlush: ts.ctxs[asid].tlb_gen < nextTlbGen };
  }
  // "We don't currently own an ASID slot on this CPU. Allocate a slot."
  let asid = ts.next_asid++;
  if (asid >= ts.ctxs.length) { asid = 0; ts.next_asid = 1; }
  if (ts.ctxs[asid].ctx_id !== 0) c.asidReused();
  return { asid, needFlush: true };
}

/** `load_new_mm_cr3(pgdir, new_asid, need_flush)`. */
export function* loadNewMmCr3(c: X86Ctx, pgd: number, asid: number, needFlush: boolean): Hook {
  if (needFlush) yield* invalidateUserAsid(c, asid);
  yield movCr3(buildCr3(c, pgd, asid, !needFlush)); // write_cr3
}

/**
 * `switch_mm_irqs_off(prev, next, tsk)`; `next` undefined is `init_mm`.
 * `choose` is `choose_new_asid`, which a broken mitigation may replace.
 */
export function* switchMmIrqsOff(c: X86Ctx, next: Mm | undefined, _tsk: Task | undefined, choose = chooseNewAsid): Hook {
  const ts = c.tlbstate, realPrev = ts.loaded_mm as Mm | undefined;
  if (realPrev === next) return;
  // "Stop remote flushes for the previous mm. Start remote flushes and then read tlb_gen."
  if (realPrev) c.cpumask(realPrev).delete(c.cpu);
  if (next) c.cpumask(next).add(c.cpu);
  const ctxId = next?.ctxId ?? INIT_MM_CTX_ID, nextTlbGen = next?.tlbGen ?? 0;
  const { asid, needFlush } = choose(c, ctxId, nextTlbGen);
  yield note(`switch_mm_irqs_off: ${next ? `mm ${next.id}` : 'init_mm'} -> asid ${asid}${needFlush ? ' (flush)' : ''}`);
  if (needFlush) ts.ctxs[asid] = { ctx_id: ctxId, tlb_gen: nextTlbGen };
  yield* loadNewMmCr3(c, next?.pgd ?? c.sym.init_top_pgt.pa, asid, needFlush);
  ts.loaded_mm = next;
  ts.loaded_mm_asid = asid;
}
