// BROKEN: `SWITCH_TO_USER_CR3` that always sets NOFLUSH, ignoring
// `user_pcid_flush_mask`. Every flush the kernel deferred to the user PCID
// (`invalidate_user_asid`: a full local flush, a context switch into a
// reused or stale ASID slot) is lost, so user mode keeps translations of
// an earlier mm or of unmapped pages. Reverses the mask test that
// "x86/mm: Use/Fix PCID to optimize user/kernel switches" (6fd166aae78c,
// v4.15) put in calling.h (x86-pti.md §3b).

import { CR3_NOFLUSH } from '../../../arch/x86/cpu.ts';
import { movCr3, readCr3, type Hook } from '../../../arch/x86/ops.ts';
import { PTI_USER_PCID_MASK, PTI_USER_PGTABLE_MASK } from '../lib/calling.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Ctx, X86Mitigation } from '../types.ts';

function* switchToUserCr3(_c: X86Ctx): Hook {
  yield movCr3((yield* readCr3()) | CR3_NOFLUSH | PTI_USER_PCID_MASK | PTI_USER_PGTABLE_MASK);
}

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/broken/pti-user-cr3-always-noflush',
  title: 'BROKEN: SWITCH_TO_USER_CR3 always sets NOFLUSH and ignores a pending user flush',
  source: 'reverses the user_pcid_flush_mask test of 6fd166aae78c "x86/mm: Use/Fix PCID to optimize user/kernel switches" (v4.15)',
  hooks: { ...ptiPcid.hooks, switchToUserCr3 },
  // A CPU with PCID but no INVPCID (Westmere to Ivy Bridge): every user flush is deferred to SWITCH_TO_USER_CR3.
  options: { ...ptiPcid.options, invpcid: false },
  expect: { violates: ['el0-isolation'], twin: 'x86/pti-pcid' },
};
export default mitigation;
