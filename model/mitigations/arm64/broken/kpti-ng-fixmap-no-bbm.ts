// The 2022 MMU-on nG rewrite with the temporary fixmap slot remapped
// valid-to-valid: `kpti_map_pgtbl` without its `str xzr` / `dsb nshst` /
// `tlbi vaae1` / `dsb nsh` / `isb`, so the slot's old translation (the
// previous page-table page) may still be cached when the new one is written.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOn } from '../kpti-ng-mmu-on.ts';
import { kptiInstallNgMappings, LINUX } from '../ng/mmu-on.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOn,
  id: 'arm64/broken/kpti-ng-fixmap-no-bbm',
  title: 'MMU-on nG rewrite whose fixmap slot is remapped without break-before-make',
  source: 'drops the break before make of kpti_map_pgtbl (arch/arm64/mm/proc.S after commit 47546a19)',
  expect: { violates: ['bbm'], twin: 'arm64/kpti-ng-mmu-on' },
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c, { ...LINUX, slotBbm: false }) },
};
export default mitigation;
