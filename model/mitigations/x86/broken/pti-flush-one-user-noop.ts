// BROKEN: `__flush_tlb_one_user` (4.15 `__flush_tlb_single`) that only runs
// INVLPG. INVLPG runs under the kernel PCID, so it removes the kernel-PCID
// copy and global entries (SDM §4.10.4.1) but not the user PCID's copy,
// and nothing marks the user PCID for the deferred flush either: after
// munmap, user mode still translates through the old entry. Reverses
// "x86/mm: Use/Fix PCID to optimize user/kernel switches" (6fd166aae78c,
// which added `invalidate_user_asid` there) and "x86/mm: Use INVPCID for
// __native_flush_tlb_single()" (6cff64b86aaa), both v4.15.

import { invlpg, type Hook } from '../../../arch/x86/ops.ts';
import type { VA } from '../../../arch/va.ts';
import { flushTlbOneKernel } from '../lib/tlbflush.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Ctx, X86Mitigation } from '../types.ts';

function* flushTlbOneUser(_c: X86Ctx, addr: VA): Hook { yield invlpg(addr); }

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/broken/pti-flush-one-user-noop',
  title: 'BROKEN: __flush_tlb_one_user neither invalidates nor marks the user PCID',
  source: 'reverses 6fd166aae78c "x86/mm: Use/Fix PCID to optimize user/kernel switches" and 6cff64b86aaa "x86/mm: Use INVPCID for __native_flush_tlb_single()" (v4.15)',
  hooks: { ...ptiPcid.hooks, flushTlbOneUser, flushTlbOneKernel: (c, a) => flushTlbOneKernel(c, a, flushTlbOneUser) },
  expect: { violates: ['stale-tlb'], twin: 'x86/pti-pcid' },
};
export default mitigation;
