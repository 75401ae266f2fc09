// The PTI half of arch/x86/events/intel/ds.c (x86-pti.md §6e): `ds_update_cea` maps a PEBS
// buffer into a cpu_entry_area, `ds_clear_cea` unmaps it, each with
// `cea_set_pte` per page (`set_pte_vaddr` on init_top_pgt's cpu_entry_area
// tables, which every PGD shares, then a local `__flush_tlb_one_kernel`),
// then "This is a cross-CPU update of the cpu_entry_area, we must shoot down
// all TLB entries for it": `flush_tlb_kernel_range`. `cea_set_pte` makes
// present entries global when CR4.PGE is in use (4.17 "x86/pti: enable
// global pages for shared areas"; without PTI every kernel pte is global).

import type { VA } from '../../../arch/va.ts';
import { type Hook } from '../../../arch/x86/ops.ts';
import { NOT_PRESENT } from '../../../arch/x86/pte.ts';
import { allocEntry, setEntry } from '../../../kernel/x86/pgtable.ts';
import { PAGE_KERNEL } from '../../../kernel/x86/prot.ts';
import type { X86Ctx } from '../types.ts';
import { flushTlbOneKernel } from './tlbflush.ts';

/** `cea_set_pte(cea_vaddr, pa, flags)`: `pa` undefined is `PAGE_NONE` (not present). */
export function* ceaSetPte(c: X86Ctx, va: VA, pa: number | undefined, globalShared: boolean): Hook {
  const ptep = yield* allocEntry(c.mem, c.sym.init_top_pgt.pa, va, { owner: 'init_top_pgt', user: false, pti: false });
  yield* setEntry(ptep, pa === undefined ? NOT_PRESENT : PAGE_KERNEL(pa, !c.pti || globalShared));
  yield* flushTlbOneKernel(c, va); // set_pte_vaddr: "It's enough to flush this one mapping."
}

/** `ds_update_cea` and `ds_clear_cea` as merged (one page per buffer). */
export const dsHooks = (globalShared: boolean) => ({
  *dsUpdateCea(c: X86Ctx, cea: VA, pa: number): Hook {
    yield* ceaSetPte(c, cea, pa, globalShared);
    yield* c.flushTlbKernelRange(cea, cea + 4096);
  },
  *dsClearCea(c: X86Ctx, cea: VA): Hook {
    yield* ceaSetPte(c, cea, undefined, globalShared);
    yield* c.flushTlbKernelRange(cea, cea + 4096);
  },
});
