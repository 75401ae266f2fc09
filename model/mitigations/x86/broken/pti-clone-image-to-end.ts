// BROKEN: `pti_clone_kernel_text` cloning the whole image, `_text` to
// `ALIGN(_end, PMD_PAGE_SIZE)`, as the development version in
// daveh/x86-kaiser@193c628e did (x86-pti.md §2b). The user page tables
// then map kernel data and bss (here `primary_crng` and early page tables),
// global, and the mitigation's own user-shared set holds secrets. The user
// copy is read-only, so a global entry filled from it makes the kernel's
// own writes to data fault after the CR3 switch (functional). 4.17 as
// merged clones only to `__end_rodata_hpage_align`.

import { kernelTextShared, ptiUserShared } from '../lib/shared.ts';
import { cloneKernelTextTo, mitigation as globalText } from '../pti-nopcid-global-text.ts';
import type { X86Mitigation } from '../types.ts';

export const mitigation: X86Mitigation = {
  ...globalText,
  id: 'x86/broken/pti-clone-image-to-end',
  title: 'BROKEN: PTI without PCID cloning the whole kernel image, data included, into the user page tables',
  source: 'imitates pti_clone_kernel_text() in daveh/x86-kaiser@193c628e (end = ALIGN(_end, PMD_PAGE_SIZE)); v4.17 stops at __end_rodata_hpage_align',
  userShared: (sym) => [...ptiUserShared(sym), ...kernelTextShared(sym, sym._end)],
  hooks: cloneKernelTextTo('_end'),
  expect: { violates: ['x86-global', 'el0-isolation', 'functional'], twin: 'x86/pti-nopcid-global-text' },
};
export default mitigation;
