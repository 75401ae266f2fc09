// BROKEN: `pti_init` without `pti_clone_user_shared`, so the
// cpu_entry_area (4.15: the GDT, the entry stack, the TSS, the SYSCALL
// trampoline and the exception stacks of every CPU, and the read-only
// IDT) is not in the user page tables. The processor reads the IDT, GDT
// and TSS and pushes its frame there on every event from CPL 3, before
// any entry code runs (SDM Vol. 3A §4.6 implicit supervisor-mode
// accesses), and SYSCALL fetches the trampoline from IA32_LSTAR.

import { ptiInit } from '../lib/pti.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Mitigation } from '../types.ts';

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/broken/pti-no-cea',
  title: 'BROKEN: PTI whose user page tables lack the cpu_entry_area (pti_clone_user_shared not called)',
  source: 'imitates 4.15 pti_init (arch/x86/mm/pti.c) without pti_clone_user_shared',
  hooks: { ...ptiPcid.hooks, layout: (c) => ptiInit(c, ptiPcid.globalShared, ['pti_clone_user_shared']) },
  expect: { violates: ['functional'], twin: 'x86/pti-pcid' },
};
export default mitigation;
