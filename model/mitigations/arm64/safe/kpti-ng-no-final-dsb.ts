// Looks broken, is safe under the Arm ARM rules: the MMU-off nG rewrite
// without the `dsb ish` after its `tlbi vmalle1is`. The boot CPU's own
// stale global entries go at `cpu_uninstall_idmap`'s local flush, and the
// secondaries flushed when they parked.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOff } from '../kpti-ng-mmu-off.ts';
import { kptiInstallNgMappings, LINUX } from '../ng/mmu-off.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOff,
  id: 'arm64/safe/kpti-ng-no-final-dsb',
  title: 'MMU-off nG rewrite without the DSB after its broadcast TLBI (safe: local flushes cover it)',
  source: 'drops `dsb ish` after `tlbi vmalle1is` in idmap_kpti_install_ng_mappings (arch/arm64/mm/proc.S, v4.16)',
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c, { ...LINUX, dsbAfterTlbi: false }) },
};
export default mitigation;
