// x86-64 PTI on a CPU without PCID (pre-Haswell, or `nopcid`): every CR3
// write flushes every non-global entry, so each entry and exit flushes the
// TLB ("On systems without PCID support, each CR3 write flushes the entire
// TLB", 4.15 Documentation/x86/pti.txt g.). As 4.17 runs it with `pti=on`:
// the entry text and cpu_entry_area are global ("x86/pti: enable global
// pages for shared areas") and survive those flushes, the kernel text is
// not (`pti_kernel_image_global_ok` is false unless pti=auto; see
// x86/pti-nopcid-global-text). Otherwise as x86/pti-pcid.

import { mitigation as ptiPcid } from './pti-pcid.ts';
import type { X86Mitigation, X86Options } from './types.ts';

/** Booted with `nopcid`: X86_FEATURE_PCID (and so INVPCID_SINGLE) off. */
export const NOPCID: Partial<X86Options> = { pcid: false, invpcid: false };

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/pti-nopcid',
  title: 'x86-64 PTI without PCID, pti=on (4.17): every CR3 switch flushes the TLB but the global shared areas',
  source: 'Linux 4.15 PTI booted with `nopcid`, with 4.17\'s "x86/pti: enable global pages for shared areas" (Dave Hansen, 2018)',
  options: NOPCID,
};
export default mitigation;
