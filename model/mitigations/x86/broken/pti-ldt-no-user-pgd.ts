// BROKEN: `map_ldt_struct` maps the LDT at its slot in the mm's kernel
// tables but never copies the LDT's PGD entry into the user PGD. The slot
// is in the kernel half (LDT_PGD_ENTRY = -3), which `pti_set_user_pgd`
// does not mirror, so 4.15 does it by hand: "This is the first time we're
// mapping an LDT for this process. Sync the pgd to the usermode tables."
// `set_pgd(kernel_to_user_pgdp(pgd), *pgd)` (arch/x86/kernel/ldt.c,
// x86-pti.md §6b). Without it the processor's descriptor read from the LDT
// remap (`load_mm_ldt` points LDTR there) faults under the user CR3.

import type { Mm } from '../../../kernel/task.ts';
import type { LdtStruct } from '../../../kernel/x86/ldt.ts';
import { mapLdtStruct } from '../lib/ldt.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Ctx, X86Mitigation } from '../types.ts';

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/broken/pti-ldt-no-user-pgd',
  title: 'BROKEN: PTI whose LDT remap is not in the user PGD (map_ldt_struct without the kernel_to_user_pgdp copy)',
  source: 'imitates 4.15 map_ldt_struct (arch/x86/kernel/ldt.c) without set_pgd(kernel_to_user_pgdp(pgd), *pgd)',
  hooks: { ...ptiPcid.hooks, mapLdtStruct: (c: X86Ctx, mm: Mm, ldt: LdtStruct) => mapLdtStruct(c, mm, ldt, false) },
  expect: { violates: ['functional'], twin: 'x86/pti-pcid' },
};
export default mitigation;
