// Looks broken, is safe under the Arm ARM rules: the MMU-off nG rewrite
// with its final invalidation local (`tlbi vmalle1`, no IS). Every
// secondary already flushed its own TLB when it parked on an empty TTBR1
// (`__idmap_cpu_set_reserved_ttbr1`) and cannot reach swapper until the
// rewrite is visible; the 2022 rewrite dropped the broadcast for this reason.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOff } from '../kpti-ng-mmu-off.ts';
import { kptiInstallNgMappings, LINUX } from '../ng/mmu-off.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOff,
  id: 'arm64/safe/kpti-ng-local-tlbi',
  title: 'MMU-off nG rewrite with a local final TLBI (safe: secondaries flushed when they parked)',
  source: 'tlbi vmalle1is -> tlbi vmalle1 in idmap_kpti_install_ng_mappings (arch/arm64/mm/proc.S, v4.16)',
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c, { ...LINUX, broadcast: false }) },
};
export default mitigation;
