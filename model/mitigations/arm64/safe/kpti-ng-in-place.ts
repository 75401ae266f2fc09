// Looks broken, is safe under the Arm ARM rules: the nG rewrite done in
// place with the MMU on while swapper_pg_dir is live in TTBR1 and the other
// CPUs are not parked. Global -> nG needs no break-before-make (R_WHZWS only
// requires it for nG -> global; arch/arm64/mm/mmu.c pgattr_change_is_safe),
// and the final `tlbi vmalle1is` + `dsb ish` removes every global entry
// cached before it, while stop_machine keeps every CPU away from EL0 until
// then. The MMU-off and fixmap versions solve a problem of access to the
// tables (and of caches, which the model does not have), not of the rules.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOn } from '../kpti-ng-mmu-on.ts';
import { kptiInstallNgInPlace, SAFE_IN_PLACE } from '../ng/in-place.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOn,
  id: 'arm64/safe/kpti-ng-in-place',
  title: 'nG rewrite in place with the MMU on and no parking (safe under the Arm ARM rules)',
  source: 'the rewrite without the MMU-off or fixmap machinery of arch/arm64/mm/proc.S',
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgInPlace(c, SAFE_IN_PLACE) },
};
export default mitigation;
