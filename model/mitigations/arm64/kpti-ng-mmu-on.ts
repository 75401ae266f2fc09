// KPTI decided late in boot, with Ard Biesheuvel's 2022 rewrite of the
// global boot mappings to nG with the MMU on, through a temporary fixmap
// (commit 47546a19 "arm64: mm: install KPTI nG mappings with MMU enabled",
// seeds/arm64-kpti-ng-mmu-on-ard-biesheuvel-2022.txt; ng/mmu-on.ts). The ID
// map is read-only and executable, with the flag mapped read-write on its own.

import { ARCH_INVARIANTS } from '../../claims.ts';
import { kptiHooks, mitigation as kpti } from './kpti.ts';
import { kptiInstallNgMappings } from './ng/mmu-on.ts';
import type { Arm64Mitigation } from './types.ts';

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/kpti-ng-mmu-on',
  title: 'arm64 KPTI enabled late: global boot mappings rewritten nG with the MMU on, via a fixmap (v6.0+)',
  source: 'Ard Biesheuvel, commit 47546a19 "arm64: mm: install KPTI nG mappings with MMU enabled" (2022)',
  claims: ARCH_INVARIANTS.arm64,
  nG: false,
  idmap: 'rox',
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c) },
};
export default mitigation;
