// x86-64 PTI on a CPU without PCID (pre-Haswell, or `nopcid`): every CR3
// write flushes every non-global entry, so each entry and exit flushes the
// TLB ("On systems without PCID support, each CR3 write flushes the entire
// TLB", 4.15 Documentation/x86/pti.txt g.). Otherwise as x86/pti-pcid.

import { mitigation as ptiPcid } from './pti-pcid.ts';
import type { X86Mitigation } from './types.ts';

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/pti-nopcid',
  title: 'x86-64 PTI (Linux 4.15) without PCID: every CR3 switch flushes the TLB',
  options: { pcid: false, invpcid: false },
};
export default mitigation;
