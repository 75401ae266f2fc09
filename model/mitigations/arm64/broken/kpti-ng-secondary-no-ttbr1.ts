// The 2022 MMU-on nG rewrite whose secondaries, once released, do not
// restore TTBR1: `__idmap_kpti_secondary` without its final
// `msr ttbr1_el1, swapper_ttb; isb` ("All done, act like nothing
// happened"). They leave stop_machine still parked on the empty table, so
// the kernel's next access of its own fails.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOn } from '../kpti-ng-mmu-on.ts';
import { kptiInstallNgMappings, LINUX } from '../ng/mmu-on.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOn,
  id: 'arm64/broken/kpti-ng-secondary-no-ttbr1',
  title: 'MMU-on nG rewrite whose secondaries resume without swapper_pg_dir in TTBR1',
  source: 'drops `msr ttbr1_el1, swapper_ttb` from __idmap_kpti_secondary (arch/arm64/mm/proc.S idmap_kpti_install_ng_mappings)',
  expect: { violates: ['functional'], twin: 'arm64/kpti-ng-mmu-on' },
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c, { ...LINUX, secondary: { ...LINUX.secondary, restoreTtbr1: false } }) },
};
export default mitigation;
