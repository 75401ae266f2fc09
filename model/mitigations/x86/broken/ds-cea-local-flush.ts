// BROKEN: `ds_update_cea` and `ds_clear_cea` that rely on `cea_set_pte`'s
// own flush, which is local (`__flush_tlb_one_kernel` on this CPU only).
// The cpu_entry_area is in every CPU's page tables, user copies included,
// and its entries are global, so another CPU keeps its cached translation
// of a released PEBS buffer and its user code reaches the page after
// `dsfree_pages` hands it to someone else. The merged code says why it
// flushes everywhere: "This is a cross-CPU update of the cpu_entry_area, we
// must shoot down all TLB entries for it." (arch/x86/events/intel/ds.c;
// the shootdown came in "x86/events/intel/ds: Use the proper cache flush
// method for mapping ds buffers", early 2018).

import type { VA } from '../../../arch/va.ts';
import type { Hook } from '../../../arch/x86/ops.ts';
import { ceaSetPte } from '../lib/ds.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Ctx, X86Mitigation } from '../types.ts';

export const mitigation: X86Mitigation = {
  ...ptiPcid,
  id: 'x86/broken/ds-cea-local-flush',
  title: 'BROKEN: PEBS buffers unmapped from the cpu_entry_area with a local TLB flush only',
  source: 'imitates ds_update_cea/ds_clear_cea without flush_tlb_kernel_range (arch/x86/events/intel/ds.c: "This is a cross-CPU update of the cpu_entry_area")',
  hooks: {
    ...ptiPcid.hooks,
    dsUpdateCea: (c: X86Ctx, cea: VA, pa: number): Hook => ceaSetPte(c, cea, pa, ptiPcid.globalShared),
    dsClearCea: (c: X86Ctx, cea: VA): Hook => ceaSetPte(c, cea, undefined, ptiPcid.globalShared),
  },
  expect: { violates: ['el0-isolation', 'x86-global'], twin: 'x86/pti-pcid' },
};
export default mitigation;
