// The 2022 MMU-on nG rewrite without its `dsb ishst` ("Ensure all the
// updated entries are visible to secondary CPUs"). The boot CPU's only
// other barriers after its nG stores are the `dsb nshst`/`dsb nsh` of the
// fixmap slot and of `__idmap_cpu_set_reserved_ttbr1`, which publish them
// to its own walker only (stores.ts), so a released secondary may still
// walk the global entries, cache them, and take them back to EL0.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOn } from '../kpti-ng-mmu-on.ts';
import { kptiInstallNgMappings, LINUX } from '../ng/mmu-on.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOn,
  id: 'arm64/broken/kpti-ng-no-publish-dsb',
  title: 'MMU-on nG rewrite that releases the secondaries without publishing the rewritten entries to their walkers',
  source: 'drops `dsb ishst` after kpti_mk_tbl_ng in idmap_kpti_install_ng_mappings (arch/arm64/mm/proc.S after commit 47546a19)',
  expect: { violates: ['ng-complete', 'el0-isolation'], twin: 'arm64/kpti-ng-mmu-on' },
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c, { ...LINUX, publishDsb: false }) },
};
export default mitigation;
