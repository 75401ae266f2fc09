// x86-64 PTI without PCID exactly as Linux 4.15 shipped it: nothing is
// global (x86-pti.md §1d), so every CR3 write at entry and exit flushes the
// entry text and cpu_entry_area translations too. The configuration of the
// seed's "kaiser+nopcid: 2.2M" (x86-cost.md §0). x86/pti-pcid-4.15 booted
// with `nopcid`.

import { mitigation as ptiPcid415 } from './pti-pcid-4.15.ts';
import { NOPCID } from './pti-nopcid.ts';
import type { X86Mitigation } from './types.ts';

export const mitigation: X86Mitigation = {
  ...ptiPcid415,
  id: 'x86/pti-nopcid-4.15',
  title: 'x86-64 PTI without PCID as merged in 4.15: no global pages, every CR3 switch flushes the TLB',
  source: 'Linux 4.15 PTI booted with `nopcid`; probe_page_size_mask: __supported_pte_mask without _PAGE_GLOBAL under PTI',
  options: NOPCID,
};
export default mitigation;
