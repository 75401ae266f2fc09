// x86-64 PTI (KAISER) as merged in Linux 4.15, with PCID
// (seeds/x86-kaiser-v4-dave-hansen-2017.txt; docs/sources/x86-pti.md):
// 8 KiB PGD pairs with the user PGD at +4096 (`pti_set_user_pgd`), kPCID =
// ASID + 1 and uPCID = kPCID | bit 11, `SWITCH_TO_KERNEL_CR3` and
// `SWITCH_TO_USER_CR3` with the deferred user flush of
// `user_pcid_flush_mask`, `pti_clone_*` of the entry text, the
// cpu_entry_area and ESPFIX, and INVPCID for single-page user flushes.
// Global pages only on the user-shared parts, as 4.17's "x86/pti: enable
// global pages for shared areas" made them (4.15 had none); the kernel
// image is non-global. The old LDT's slot is unmapped before its page is
// freed, as a0e6e0831c51 (v4.20) fixed it (x86/broken/ldt-free-still-mapped
// is 4.15's behaviour).

import { ARCH_INVARIANTS } from '../../claims.ts';
import { linuxHooks } from './lib/hooks.ts';
import { ptiUserShared } from './lib/shared.ts';
import type { X86Mitigation } from './types.ts';

export const mitigation: X86Mitigation = {
  id: 'x86/pti-pcid',
  arch: 'x86',
  title: 'x86-64 PTI (KAISER, 4.15) with PCID pairs, deferred user flush and INVPCID; global shared areas (4.17)',
  source: 'Dave Hansen et al., "KAISER: unmap most of the kernel from userspace page tables" v4, 2017, merged as PTI in v4.15; Dave Hansen, "x86/pti: enable global pages for shared areas", v4.17',
  claims: ARCH_INVARIANTS.x86,
  pti: true,
  globalKernel: false,
  globalShared: true,
  options: { pcid: true, invpcid: true },
  userShared: ptiUserShared,
  hooks: linuxHooks(true),
};
export default mitigation;
