// BROKEN: `pti_init` without `pti_setup_espfix64`, so the ESPFIX P4D is not
// cloned into the user page tables. "Clone the ESPFIX P4D into the user
// space visible page table" (4.15 arch/x86/mm/pti.c, x86-pti.md §2c) is
// there because `native_irq_return_ldt` (entry_64.S) runs `popq %rax` and
// `iretq` on the ESPFIX stack after `SWITCH_TO_USER_CR3_STACK`: a task
// whose SS is a 16-bit LDT segment faults in the kernel's exit path.

import { ptiInit } from '../lib/pti.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Mitigation } from '../types.ts';

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/broken/pti-no-espfix',
  title: 'BROKEN: PTI whose user page tables lack the ESPFIX stacks (pti_setup_espfix64 not called)',
  source: 'imitates 4.15 pti_init (arch/x86/mm/pti.c) without pti_setup_espfix64',
  hooks: { ...ptiPcid.hooks, layout: (c) => ptiInit(c, ptiPcid.globalShared, ['pti_setup_espfix64']) },
  expect: { violates: ['functional'], twin: 'x86/pti-pcid' },
};
export default mitigation;
