// Looks broken, is safe in the model: the MMU-off rewrite releasing the
// secondaries before it publishes (`dsb sy; tlbi vmalle1is; dsb ish`). A
// released secondary may cache global kernel entries from stores not yet
// visible, but stop_machine keeps it in the kernel until the boot CPU is
// done, and the broadcast TLBI that follows removes every entry cached
// before it. Not modelled: the data caches the MMU-off stores bypass
// (`dc civac`), which is where real hardware could still see stale lines.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOff } from '../kpti-ng-mmu-off.ts';
import { kptiInstallNgMappings, LINUX } from '../ng/mmu-off.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOff,
  id: 'arm64/safe/kpti-ng-release-early',
  title: 'MMU-off nG rewrite that releases the secondaries before publishing (safe in the model)',
  source: 'moves `str wzr, [flag_ptr]` before the publish sequence of idmap_kpti_install_ng_mappings (arch/arm64/mm/proc.S, v4.16)',
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c, { ...LINUX, releaseEarly: true }) },
};
export default mitigation;
