// The 2022 MMU-on nG rewrite with the read-only ID map, but the flag the
// CPUs meet on left inside `.idmap.text`, where the pre-2022 code had it
// (`__idmap_kpti_flag: .long 1` under `.pushsection ".idmap.text", "awx"`).
// Linux moved it to `.data` (`.pushsection ".data", "aw"`; `SYM_DATA(__idmap_kpti_flag, .long 1)`,
// docs/sources/arm64-ng-rewrite.md §3) and maps it read-write in the ID map
// on its own; here the secondaries' `stxr` to it takes a permission fault
// through the read-only, executable ID map.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOn } from '../kpti-ng-mmu-on.ts';
import { kptiInstallNgMappings } from '../ng/mmu-on.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOn,
  id: 'arm64/broken/kpti-ng-flag-in-idmap-text',
  title: 'MMU-on nG rewrite with a read-only ID map whose meeting flag is still in .idmap.text',
  source: '__idmap_kpti_flag in .idmap.text (as before commit 47546a19) with the ROX ID map of create_idmap (arch/arm64/mm/mmu.c)',
  expect: { violates: ['functional'], twin: 'arm64/kpti-ng-mmu-on' },
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings({ ...c, sym: { ...c.sym, kpti_flag: undefined } }) },
};
export default mitigation;
