// Page-table updates as arch/arm64/include/asm/pgtable.h does them, yielding
// the stores and barriers: `set_pte`, `set_pmd` (also `set_pud`, `set_pgd`),
// `pte_clear`, and the `*_alloc` that populate missing levels.
// Simplification: the kernel's own loads of page-table memory (pte_offset)
// read physical memory directly instead of going through its linear map.

import { INVALID, tableDesc, type Descriptor } from '../../arch/arm64/descriptor.ts';
import { dsb, isb, str, type Hook } from '../../arch/arm64/ops.ts';
import type { PhysMem } from '../../arch/phys.ts';
import type { VA } from '../../arch/va.ts';
import { tableIndex } from '../../arch/arm64/walk.ts';

/** A pointer to one descriptor: `pte_t *`, `pmd_t *`. */
export interface EntryPtr {
  /** Physical address of the table. */
  readonly table: number;
  /** Index in the table. */
  readonly index: number;
  /** Level of the table (0 = pgd). */
  readonly level: number;
}

/** `set_pte`: a valid kernel pte gets `dsb(ishst); isb()`; user ptes rely on TLB maintenance or update_mmu_cache. */
export function* setPte(p: EntryPtr, pte: Descriptor): Hook {
  yield str(p.table, p.index, p.level, pte);
  if (pte.kind !== 'invalid' && pte.kind !== 'table' && (pte.AP & 1) === 0) { yield dsb('ishst'); yield isb(); }
}

/** `pte_clear`: `set_pte(ptep, __pte(0))`. */
export function* pteClear(p: EntryPtr): Hook { yield* setPte(p, INVALID); }

/** `set_pmd` (and `set_pud`, `set_pgd`): the store, then `dsb(ishst); isb()` so the walker sees it. */
export function* setPmd(p: EntryPtr, pmd: Descriptor): Hook {
  yield str(p.table, p.index, p.level, pmd);
  yield dsb('ishst');
  yield isb();
}

/** `pte_offset` down the tables of `root`: the pointer to `va`'s entry at `level`, if the levels above exist. */
export function entryPtr(mem: PhysMem<Descriptor>, root: number, va: VA, level = 3): EntryPtr | undefined {
  let table = root;
  for (let l = 0; l < level; l++) {
    const d = mem.readEntry(table, tableIndex(va, l));
    if (!d || d.kind !== 'table') return undefined;
    table = d.NLTA;
  }
  return { table, index: tableIndex(va, level), level };
}

/** How `allocEntry` names and reports the tables it allocates. */
export interface AllocOpts {
  /** Ghost name prefix for new tables (`pgd(mm 3)`). */
  readonly owner: string;
  /** Level of the entry wanted (3 = pte). */
  readonly level?: number;
  /** Told about each new table frame. */
  readonly onAlloc?: (pa: number) => void;
}

/**
 * `pud_alloc`/`pmd_alloc`/`pte_alloc`: populate missing table levels above
 * `level` for `va` (allocating zeroed page-table frames) and return the
 * pointer to the entry at `level`.
 */
export function* allocEntry(mem: PhysMem<Descriptor>, root: number, va: VA, { owner, level = 3, onAlloc }: AllocOpts): Hook<EntryPtr> {
  let table = root;
  for (let l = 0; l < level; l++) {
    const p = { table, index: tableIndex(va, l), level: l };
    const d = mem.readEntry(table, p.index);
    if (d?.kind === 'table') { table = d.NLTA; continue; }
    const next = mem.alloc('page-table', `${owner} L${l + 1}`, true);
    onAlloc?.(next);
    yield* setPmd(p, tableDesc(next));
    table = next;
  }
  return { table, index: tableIndex(va, level), level };
}

/** Run a boot-time generator directly against memory: stores apply, barriers are moot before SMP bring-up. */
export function runAtBoot<T>(mem: PhysMem<Descriptor>, g: Hook<T>): T {
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return r.value;
    const op = r.value;
    if (op.op === 'str') mem.writeEntry(op.table, op.index, op.desc, (d) => d.kind === 'invalid');
  }
}
