// An nG rewrite whose final invalidation is local (`tlbi vmalle1`, no IS):
// done in place while the other CPUs wait in stop_machine with swapper live
// and nothing of their own to flush, so they keep the global kernel entries
// they cached during boot and take them back to EL0. (Linux's own rewrites
// survive a local final TLBI: see model/mitigations/arm64/safe/.)

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOn } from '../kpti-ng-mmu-on.ts';
import { kptiInstallNgInPlace, SAFE_IN_PLACE } from '../ng/in-place.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOn,
  id: 'arm64/broken/kpti-ng-local-tlbi',
  title: 'nG rewrite whose final invalidation is local, so other CPUs keep global kernel entries',
  source: 'tlbi vmalle1is -> tlbi vmalle1 after the rewrite (compare idmap_kpti_install_ng_mappings, arch/arm64/mm/proc.S)',
  expect: { violates: ['ng-complete', 'el0-isolation'], twin: 'arm64/safe/kpti-ng-in-place' },
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgInPlace(c, { ...SAFE_IN_PLACE, broadcast: false }) },
};
export default mitigation;
