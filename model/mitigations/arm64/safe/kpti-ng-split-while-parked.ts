// Looks broken, is safe under the Arm ARM rules: the 2022 fixmap rewrite
// that also splits the linear map's 2 MiB block into pages in place, without
// break-before-make. BBM is required of live descriptors only, and during
// the rewrite swapper_pg_dir is in no CPU's TTBR1 (the boot CPU is on the
// temporary tables, the others on an empty one) and every CPU flushed its
// TLB when it left swapper, so nothing can cache the block.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOn } from '../kpti-ng-mmu-on.ts';
import { kptiInstallNgMappings, LINUX } from '../ng/mmu-on.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOn,
  id: 'arm64/safe/kpti-ng-split-while-parked',
  title: 'fixmap nG rewrite that also splits a block in place (safe: swapper is not live meanwhile)',
  source: 'a block-to-table change inside kpti_mk_tbl_ng (arch/arm64/mm/proc.S after commit 47546a19)',
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c, { ...LINUX, splitBlock: true }) },
};
export default mitigation;
