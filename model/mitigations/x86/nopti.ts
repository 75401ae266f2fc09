// x86-64 without PTI (`nopti`, or a CPU not affected by Meltdown): one page
// table per mm with the kernel mapped in it, every kernel mapping global,
// PCIDs for user contexts only (4.14's PCID support). It claims everything
// but CPL3 isolation (and the global-page rule), which Meltdown breaks.

import { ptiUserShared } from './lib/shared.ts';
import { linuxHooks } from './lib/hooks.ts';
import type { X86Mitigation } from './types.ts';

export const mitigation: X86Mitigation = {
  id: 'x86/nopti',
  arch: 'x86',
  title: 'x86-64 without PTI: kernel mapped (global) in every page table',
  source: 'Linux 4.15 booted with `nopti` (X86_FEATURE_PTI clear)',
  claims: ['stale-tlb', 'asid-uniqueness', 'functional', 'tlb-conflict'],
  pti: false,
  globalKernel: true,
  globalShared: true,
  options: { pcid: true, invpcid: true },
  userShared: ptiUserShared,
  hooks: linuxHooks(true),
};
export default mitigation;
