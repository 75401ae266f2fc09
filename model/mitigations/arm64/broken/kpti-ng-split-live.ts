// An nG rewrite done in place with the MMU on, swapper live on every CPU,
// that also splits the linear map's 2 MiB block into pages by writing the
// table descriptor over the live block: a block size change without
// break-before-make (Arm ARM R_WHZWS), so a CPU may cache the block and the
// new pages for one VA at once. Its twin is the same in-place rewrite
// without the split (safe/kpti-ng-in-place).

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOn } from '../kpti-ng-mmu-on.ts';
import { kptiInstallNgInPlace, SAFE_IN_PLACE } from '../ng/in-place.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOn,
  id: 'arm64/broken/kpti-ng-split-live',
  title: 'in-place nG rewrite that splits a live block into a table without break-before-make',
  source: 'a block-to-table change of a live swapper entry (compare arch/arm64/mm/mmu.c pgattr_change_is_safe, Arm ARM R_WHZWS)',
  expect: { violates: ['bbm'], twin: 'arm64/safe/kpti-ng-in-place' },
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgInPlace(c, { ...SAFE_IN_PLACE, split: true }) },
};
export default mitigation;
