// User address spaces: `pgd_alloc`, populating and tearing down user pages
// (mm/memory.c, mm/mmap.c), as generators of stores.

import type { Descriptor } from '../../arch/arm64/descriptor.ts';
import type { Hook } from '../../arch/arm64/ops.ts';
import type { PhysMem } from '../../arch/phys.ts';
import type { VA } from '../../arch/va.ts';
import type { Mm } from '../task.ts';
import { allocEntry, entryPtr, pteClear, setPte } from './pgtable.ts';
import { userPage, type Prot } from './prot.ts';

/** `mm_alloc` + `pgd_alloc`: an empty user address space. */
export function newMm(mem: PhysMem<Descriptor>, id: number): Mm {
  const pgd = mem.alloc('page-table', `pgd(mm ${id})`, true);
  return { id, pgd, contextId: 0, ctxId: 0, tlbGen: 0, users: 0, pages: new Map(), tables: [] };
}

/** Populate one user page: allocate a frame labelled `user(tgid)`, then `set_pte_at`. */
export function* mapUserPage(mem: PhysMem<Descriptor>, mm: Mm, va: VA, prot: Prot, tgid: number): Hook<number> {
  const p = yield* allocEntry(mem, mm.pgd, va, { owner: `pgd(mm ${mm.id})`, onAlloc: (t) => mm.tables.push(t) });
  const pa = mem.alloc(`user(${tgid})`, `user page of ${tgid}`);
  yield* setPte(p, userPage(pa, prot));
  mm.pages.set(va, { pa, prot });
  return pa;
}

/** Clear the pte of a mapped user page; the caller flushes the TLB and then frees the frame. */
export function* clearUserPage(mem: PhysMem<Descriptor>, mm: Mm, va: VA): Hook<number | undefined> {
  const page = mm.pages.get(va);
  const p = entryPtr(mem, mm.pgd, va);
  if (!page || !p) return undefined;
  yield* pteClear(p);
  mm.pages.delete(va);
  return page.pa;
}

/** Rewrite the pte of a mapped user page with new permissions or a new frame. */
export function* rewriteUserPage(mem: PhysMem<Descriptor>, mm: Mm, va: VA, pa: number, prot: Prot): Hook {
  const p = entryPtr(mem, mm.pgd, va)!;
  yield* setPte(p, userPage(pa, prot));
  mm.pages.set(va, { pa, prot });
}

/** `__mmdrop` after `exit_mmap`: free the page tables and the pgd. */
export function freeMm(mem: PhysMem<Descriptor>, mm: Mm): void {
  for (const t of mm.tables) mem.free(t);
  mem.free(mm.pgd);
}

