// The PTI half of arch/x86/kernel/ldt.c: `map_ldt_struct` (4.15, x86-pti.md
// §6b) maps a new LDT into its slot of the mm's tables and, the first time,
// copies the LDT's PGD entry into the user PGD; `unmap_ldt_struct`
// (a0e6e0831c51 "x86/ldt: Unmap PTEs for the slot before freeing LDT
// pages", v4.20) clears the old slot before its page is freed. Both are
// no-ops without PTI, where the LDT is reached through the direct map.

import { type Hook } from '../../../arch/x86/ops.ts';
import { NOT_PRESENT } from '../../../arch/x86/pte.ts';
import type { Mm } from '../../../kernel/task.ts';
import { ldtSlotVa, LDT_SLOT_STRIDE, type LdtStruct } from '../../../kernel/x86/ldt.ts';
import { LDT_BASE_ADDR, pgdIndex } from '../../../kernel/x86/layout.ts';
import { allocEntry, entryPtr, PTI_USER_PGD_OFFSET, setEntry } from '../../../kernel/x86/pgtable.ts';
import { PAGE_KERNEL_RO } from '../../../kernel/x86/prot.ts';
import type { X86Ctx } from '../types.ts';

/** `syncUserPgd`: the first mapping copies the LDT's PGD entry into the user PGD (false only in x86/broken/pti-ldt-no-user-pgd). */
export function* mapLdtStruct(c: X86Ctx, mm: Mm, ldt: LdtStruct, syncUserPgd = true): Hook {
  if (!c.pti) return;
  const index = pgdIndex(LDT_BASE_ADDR), hadTopLevelEntry = c.mem.readEntry(mm.pgd, index)?.P === true;
  const va = ldtSlotVa(ldt.slot);
  // "Treat the PTI LDT range as a *userspace* range. get_locked_pte() will allocate all needed pagetables."
  const ptep = yield* allocEntry(c.mem, mm.pgd, va, { owner: `pgd(mm ${mm.id})`, user: true, pti: c.pti, onAlloc: (t) => mm.tables.push(t) });
  // "Map it RO so the easy to find address is not a primary target": __PAGE_KERNEL_RO & ~_PAGE_GLOBAL.
  yield* setEntry(ptep, PAGE_KERNEL_RO(ldt.pa, false));
  // "This is the first time we're mapping an LDT for this process. Sync the pgd to the usermode tables."
  // The slot is in the kernel half, which `pti_set_user_pgd` leaves alone
  // (`pgdp_maps_userspace`): a raw `set_pgd(kernel_to_user_pgdp(pgd), *pgd)`.
  if (!hadTopLevelEntry && syncUserPgd) yield* setEntry({ table: mm.pgd + PTI_USER_PGD_OFFSET, index, level: 0 }, c.mem.readEntry(mm.pgd, index)!);
  yield* c.flushTlbMmRange(mm, va, va + LDT_SLOT_STRIDE);
}

export function* unmapLdtStruct(c: X86Ctx, mm: Mm, ldt: LdtStruct): Hook {
  if (!c.pti) return;
  const va = ldtSlotVa(ldt.slot), ptep = entryPtr(c.mem, mm.pgd, va);
  if (ptep) yield* setEntry(ptep, NOT_PRESENT); // pte_clear
  yield* c.flushTlbMmRange(mm, va, va + 4096);
}
