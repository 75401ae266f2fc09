// KPTI decided late in boot, with the pre-2022 in-place rewrite of the
// global boot mappings to nG done with the MMU off (ng/mmu-off.ts). The ID
// map is the 2 MiB RWX section head.S built (SWAPPER_MM_MMUFLAGS), because
// the flag the CPUs meet on lives in `.idmap.text` and is written there:
// Ard Biesheuvel's 2022 commit message names this as something "we'd
// prefer to avoid". So this version does not claim W^X; review shows it
// violated on the ID map.

import { ARCH_INVARIANTS } from '../../claims.ts';
import { kptiHooks, mitigation as kpti } from './kpti.ts';
import { kptiInstallNgMappings } from './ng/mmu-off.ts';
import type { Arm64Mitigation } from './types.ts';

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/kpti-ng-mmu-off',
  title: 'arm64 KPTI enabled late: global boot mappings rewritten nG with the MMU off (v4.16-v5.18)',
  source: 'arch/arm64/mm/proc.S idmap_kpti_install_ng_mappings and cpufeature.c kpti_install_ng_mappings, before commit 47546a19',
  claims: ARCH_INVARIANTS.arm64.filter((i) => i !== 'wx'),
  nG: false,
  idmap: 'rwx',
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c) },
};
export default mitigation;
