// BROKEN: `write_ldt` frees the old LDT's page while its slot still maps it
// in the mm's tables, user PGD included, as Linux 4.15 to 4.19 did.
// "Leaving the mapping in place can have security implications. The mapping
// is present in the userspace page tables and Meltdown-like attacks can read
// these freed and possibly reused pages." Reverses a0e6e0831c51 "x86/ldt:
// Unmap PTEs for the slot before freeing LDT pages" (Kirill A. Shutemov,
// 2018, v4.20 and stable).

import type { Hook } from '../../../arch/x86/ops.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Mitigation } from '../types.ts';

function* unmapLdtStruct(): Hook { /* 4.15-4.19: nothing */ }

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/broken/ldt-free-still-mapped',
  title: 'BROKEN: modify_ldt frees the old LDT page while the user page table still maps it',
  source: 'reverses a0e6e0831c51 "x86/ldt: Unmap PTEs for the slot before freeing LDT pages" (v4.20)',
  hooks: { ...ptiPcid.hooks, unmapLdtStruct },
  expect: { violates: ['el0-isolation'], twin: 'x86/pti-pcid' },
};
export default mitigation;
