// The pre-2022 nG rewrite without turning the MMU off: both SCTLR_EL1
// writes of idmap_kpti_install_ng_mappings dropped (`bic x17, x17,
// #SCTLR_ELx_M; msr sctlr_el1, x17` before the walk, the `orr` and `msr`
// after it). The walk still addresses swapper_pg_dir by its physical
// address (`mov cur_pgdp, swapper_pa`), which with the MMU on is a VA in
// TTBR0, the ID map, which maps only `.idmap.text`: the first load faults.

import { kptiHooks } from '../kpti.ts';
import { mitigation as ngMmuOff } from '../kpti-ng-mmu-off.ts';
import { kptiInstallNgMappings, LINUX } from '../ng/mmu-off.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...ngMmuOff,
  id: 'arm64/broken/kpti-ng-mmu-off-mmu-on',
  title: 'MMU-off nG rewrite that never turns the MMU off, so its physical addresses go through the ID map',
  source: 'drops both `msr sctlr_el1` of idmap_kpti_install_ng_mappings (arch/arm64/mm/proc.S, v4.16-v5.18)',
  expect: { violates: ['functional'], twin: 'arm64/kpti-ng-mmu-off' },
  hooks: { ...kptiHooks, installNgMappings: (c) => kptiInstallNgMappings(c, { ...LINUX, mmuOff: false }) },
};
export default mitigation;
