// An nG rewrite whose broadcast invalidation has no `dsb ish` after it: the
// other CPUs leave stop_machine (are released) before the invalidation is
// known complete on them (Arm ARM R_YNJCP), and may return to EL0 still
// caching global kernel entries.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOn } from '../kpti-ng-mmu-on.ts';
import { kptiInstallNgInPlace, SAFE_IN_PLACE } from '../ng/in-place.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOn,
  id: 'arm64/broken/kpti-ng-no-final-dsb',
  title: 'nG rewrite that releases the other CPUs before its broadcast TLBI completes (no DSB)',
  source: 'drops `dsb ish` after `tlbi vmalle1is` in the rewrite (compare idmap_kpti_install_ng_mappings, arch/arm64/mm/proc.S)',
  expect: { violates: ['ng-complete'], twin: 'arm64/safe/kpti-ng-in-place' },
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgInPlace(c, { ...SAFE_IN_PLACE, finalDsb: false }) },
};
export default mitigation;
