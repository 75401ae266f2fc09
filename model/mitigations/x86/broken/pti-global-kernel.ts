// BROKEN: PTI with the kernel image still `_PAGE_GLOBAL`. A global entry
// matches every PCID and survives the CR3 switch to the user page table,
// so a kernel translation cached before returning to user mode stays
// usable there (SDM §4.10.2.4): Meltdown reads the kernel through it.
// Reverses KAISER v4's "x86/mm/kaiser: Disable global pages by default with
// KAISER" (`#define __PAGE_KERNEL_GLOBAL 0`, x86-pti.md §1c; 4.15 did it with
// `__supported_pte_mask`, §1d, and 4.17 with `__default_kernel_pte_mask`, §1e).

import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Mitigation } from '../types.ts';

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/broken/pti-global-kernel',
  title: 'BROKEN: PTI with the kernel image left global',
  source: 'reverses KAISER v4 "x86/mm/kaiser: Disable global pages by default with KAISER" (Dave Hansen, 2017)',
  globalKernel: true,
  expect: { violates: ['x86-global', 'el0-isolation'], twin: 'x86/pti-pcid' },
};
export default mitigation;
