// x86-64 PTI with PCID exactly as Linux 4.15 shipped it: nothing is global.
// CR4.PGE stays on, but under PTI `__supported_pte_mask` lacks
// `_PAGE_GLOBAL`, so the entry text, the cpu_entry_area (PEBS buffers
// included) and ESPFIX are per-PCID like the rest (x86-pti.md §1d). Every
// shared translation is then cached once per kernel and user PCID, and
// `__flush_tlb_one_kernel` must reach the user PCID and, through
// `invalidate_other_asid`, every other ASID's. Otherwise as x86/pti-pcid,
// which has 4.17's global shared areas.

import { linuxHooks } from './lib/hooks.ts';
import { mitigation as ptiPcid } from './pti-pcid.ts';
import type { X86Mitigation } from './types.ts';

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/pti-pcid-4.15',
  title: 'x86-64 PTI with PCID as merged in 4.15: no global pages, shared areas cached per PCID',
  source: 'Linux 4.15 probe_page_size_mask: __supported_pte_mask without _PAGE_GLOBAL under PTI',
  globalShared: false,
  hooks: linuxHooks(false),
};
export default mitigation;
