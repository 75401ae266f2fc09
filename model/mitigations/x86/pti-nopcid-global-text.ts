// x86-64 PTI without PCID as 4.17 runs it with `pti=auto`: since every CR3
// write flushes, `pti_clone_kernel_text` (4.17 "x86/pti: Leave kernel text
// global for !PCID") maps the kernel text and rodata, global, into the user
// page tables too, trading KASLR's secrecy against Meltdown for fewer TLB
// misses. The declared user-shared set grows by those frames; data and bss
// stay out (`__end_rodata_hpage_align`). Otherwise as x86/pti-nopcid.

import { linuxHooks } from './lib/hooks.ts';
import { ptiCloneKernelText, ptiInit } from './lib/pti.ts';
import { kernelTextShared, ptiUserShared } from './lib/shared.ts';
import { mitigation as ptiNopcid } from './pti-nopcid.ts';
import type { X86Hooks, X86Mitigation } from './types.ts';

/** `pti_init`, then `mark_rodata_ro`'s `pti_clone_kernel_text` up to `end` (a symbol of the image). */
export const cloneKernelTextTo = (end: '__end_rodata_hpage_align' | '_end'): X86Hooks => ({
  ...linuxHooks(true),
  *layout(c) {
    yield* ptiInit(c, true);
    yield* ptiCloneKernelText(c, c.sym[end].va);
  },
});

export const mitigation: X86Mitigation = {
  ...ptiNopcid,
  id: 'x86/pti-nopcid-global-text',
  title: 'x86-64 PTI without PCID, pti=auto (4.17): kernel text and rodata cloned global into the user page tables',
  source: 'Dave Hansen, "x86/pti: Leave kernel text global for !PCID", v4.17',
  userShared: (sym) => [...ptiUserShared(sym), ...kernelTextShared(sym, sym.__end_rodata_hpage_align)],
  hooks: cloneKernelTextTo('__end_rodata_hpage_align'),
};
export default mitigation;
