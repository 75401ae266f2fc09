// KPTI whose TLB maintenance only invalidates the kernel ASID, as before
// "arm64: mm: Invalidate both kernel and user ASIDs when performing TLBI"
// (KPTI series patch 9/18): `__tlbi_user` does not exist, so entries that
// user code filled under the odd (user) ASID outlive munmap and mprotect.

import { kptiHooks, mitigation as kpti } from '../kpti.ts';
import { tlbFlushHooks } from '../lib/tlbflush.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/broken/kpti-tlbi-kernel-asid-only',
  title: 'KPTI with TLBI of the kernel ASID only',
  source: 'reverses "arm64: mm: Invalidate both kernel and user ASIDs when performing TLBI" (KPTI series patch 9/18)',
  expect: { violates: ['stale-tlb', 'functional', 'tlb-conflict', 'bbm'], twin: 'arm64/kpti' },
  // BUG: no __tlbi_user: only the kernel ASID is invalidated.
  hooks: { ...kptiHooks, ...tlbFlushHooks(false) },
};
export default mitigation;
