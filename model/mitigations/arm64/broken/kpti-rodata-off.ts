// KPTI booted with `rodata=off`: 4.16's `map_entry_trampoline` then maps the
// trampoline with PAGE_KERNEL_EXEC instead of PAGE_KERNEL_ROX
// (arch/arm64/mm/mmu.c: `prot = rodata_enabled ? PAGE_KERNEL_ROX :
// PAGE_KERNEL_EXEC`), a writable and executable kernel mapping that ptdump's
// check_wx reports, in both the kernel and the trampoline page tables.

import { kptiHooks, mapEntryTrampoline, mitigation as kpti } from '../kpti.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/broken/kpti-rodata-off',
  title: 'KPTI with rodata=off: the entry trampoline is mapped writable and executable',
  source: 'map_entry_trampoline with rodata_enabled false (arch/arm64/mm/mmu.c, 4.16): PAGE_KERNEL_EXEC',
  expect: { violates: ['wx'], twin: 'arm64/kpti' },
  hooks: { ...kptiHooks, layout: (c) => mapEntryTrampoline(c, false) },
};
export default mitigation;
