// KPTI with the kernel still mapped global: reverses "arm64: mm: Use
// non-global mappings for kernel space" (patch 1/18 of the KPTI series),
// i.e. `PTE_MAYBE_NG` left 0. Global kernel TLB entries filled while in the
// kernel match every ASID, so they survive the switch to the user ASID.

import { mitigation as kpti } from '../kpti.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/broken/kpti-global-kernel',
  title: 'KPTI with global kernel mappings (PTE_MAYBE_NG = 0)',
  source: 'reverses "arm64: mm: Use non-global mappings for kernel space" (KPTI series patch 1/18)',
  nG: false,
  expect: { violates: ['el0-isolation'], twin: 'arm64/kpti' },
};
export default mitigation;
