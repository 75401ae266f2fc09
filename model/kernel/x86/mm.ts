// x86 user address spaces (arch/x86/mm/pgtable.c, mm/memory.c), as
// generators of stores. `pgd_alloc` takes an order-1 page pair under PTI
// and `pgd_ctor` copies the kernel half of `init_top_pgt` into both copies
// (`clone_pgd_range`, which clones the user copy "as well" under PTI).

import type { PhysMem } from '../../arch/phys.ts';
import type { VA } from '../../arch/va.ts';
import type { Hook } from '../../arch/x86/ops.ts';
import { NOT_PRESENT, type X86Pte } from '../../arch/x86/pte.ts';
import type { Mm, Prot } from '../task.ts';
import { pgdPages } from './image.ts';
import { KERNEL_PGD_BOUNDARY } from './layout.ts';
import { allocEntry, entryPtr, PTI_USER_PGD_OFFSET, setEntry } from './pgtable.ts';
import { userPage } from './prot.ts';

/** `mm_alloc` + `init_new_context` (`ctx_id`, `tlb_gen` = 0) + `pgd_alloc` with `pgd_ctor`. */
export function newMm(mem: PhysMem<X86Pte>, id: number, initTopPgt: number, pti: boolean, ctxId: number): Mm {
  const pgd = pgdPages(mem, `pgd(mm ${id})`, pti);
  const copies = pti ? [0, PTI_USER_PGD_OFFSET] : [0];
  for (let i = KERNEL_PGD_BOUNDARY; i < 512; i++) {
    for (const off of copies) {
      const e = mem.readEntry(initTopPgt + off, i);
      if (e) mem.writeEntry(pgd + off, i, e, () => false);
    }
  }
  return { id, pgd, contextId: 0, ctxId, tlbGen: 0, users: 0, pages: new Map(), tables: [] };
}

/** Populate one user page: allocate a frame labelled `user(tgid)`, then `set_pte_at`. */
export function* mapUserPage(mem: PhysMem<X86Pte>, mm: Mm, va: VA, prot: Prot, tgid: number, pti: boolean): Hook<number> {
  const p = yield* allocEntry(mem, mm.pgd, va, { owner: `pgd(mm ${mm.id})`, user: true, pti, onAlloc: (t) => mm.tables.push(t) });
  const pa = mem.alloc(`user(${tgid})`, `user page of ${tgid}`);
  yield* setEntry(p, userPage(pa, prot));
  mm.pages.set(va, { pa, prot });
  return pa;
}

/** `pte_clear` of a mapped user page; the caller flushes the TLB and then frees the frame. */
export function* clearUserPage(mem: PhysMem<X86Pte>, mm: Mm, va: VA): Hook<number | undefined> {
  const page = mm.pages.get(va);
  const p = entryPtr(mem, mm.pgd, va);
  if (!page || !p) return undefined;
  yield* setEntry(p, NOT_PRESENT);
  mm.pages.delete(va);
  return page.pa;
}

/** Rewrite the pte of a mapped user page with new permissions or a new frame. */
export function* rewriteUserPage(mem: PhysMem<X86Pte>, mm: Mm, va: VA, pa: number, prot: Prot): Hook {
  yield* setEntry(entryPtr(mem, mm.pgd, va)!, userPage(pa, prot));
  mm.pages.set(va, { pa, prot });
}

/** `__mmdrop` after `exit_mmap`: free the page tables and the pgd (pair). */
export function freeMm(mem: PhysMem<X86Pte>, mm: Mm, pti: boolean): void {
  for (const t of mm.tables) mem.free(t);
  mem.free(mm.pgd);
  if (pti) mem.free(mm.pgd + PTI_USER_PGD_OFFSET);
}
