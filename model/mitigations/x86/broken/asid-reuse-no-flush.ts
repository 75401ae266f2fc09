// BROKEN: `choose_new_asid` that hands out a dynamic ASID slot without
// asking for a flush, so `load_new_mm_cr3` writes CR3 with NOFLUSH into a
// PCID "used earlier for a different linear-address space" (SDM §4.10.4.2)
// and the previous owner's kernel- and user-PCID entries stay usable.
// Reverses the `*need_flush = true` of a newly allocated slot in
// arch/x86/mm/tlb.c (10af6235e0d3 "x86/mm: Implement PCID based
// optimization: try to preserve old TLB entries using PCID", v4.14).

import { chooseNewAsid, switchMmIrqsOff, type AsidChoice } from '../lib/tlb.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Ctx, X86Mitigation } from '../types.ts';

function chooseWithoutFlush(c: X86Ctx, ctxId: number, nextTlbGen: number): AsidChoice {
  const owned = c.tlbstate.ctxs.some((x) => x.ctx_id === ctxId);
  const choice = chooseNewAsid(c, ctxId, nextTlbGen);
  if (owned) return choice;
  c.tlbstate.ctxs[choice.asid] = { ctx_id: ctxId, tlb_gen: nextTlbGen }; // the slot is claimed...
  return { asid: choice.asid, needFlush: false }; // ...but not flushed
}

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/broken/asid-reuse-no-flush',
  title: 'BROKEN: a context switch reuses a dynamic ASID without flushing it',
  source: 'reverses the need_flush of a new slot in choose_new_asid (10af6235e0d3, v4.14)',
  hooks: { ...ptiPcid.hooks, switchMmIrqsOff: (c, _prev, next, tsk) => switchMmIrqsOff(c, next, tsk, chooseWithoutFlush) },
  // Two ASID slots per CPU, so that short workloads hand a slot from one mm to another.
  options: { ...ptiPcid.options, dynAsids: 2 },
  expect: { violates: ['asid-uniqueness', 'el0-isolation'], twin: 'x86/pti-pcid' },
};
export default mitigation;
