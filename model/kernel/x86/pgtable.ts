// Page-table updates as arch/x86/include/asm/pgtable*.h does them: each is
// one plain store (`native_set_pte`, `native_set_pmd`, `native_set_pud`,
// `native_set_pgd`, `native_pte_clear`); x86 needs no barrier for the
// walker to see it. Under PTI `native_set_pgd` goes through
// `pti_set_user_pgd` (x86-pti.md §2a-2b): a user-half PGD entry is written
// to the user copy, and the kernel copy gets it with NX.
// Simplification: the kernel reads page-table memory physically (not
// through the direct map), as `pte_offset` effectively does.

import type { PhysMem } from '../../arch/phys.ts';
import type { VA } from '../../arch/va.ts';
import { setPte, type Hook } from '../../arch/x86/ops.ts';
import { isNone, isTable, type X86Pte } from '../../arch/x86/pte.ts';
import { tableIndex } from '../../arch/x86/walk.ts';
import { KERNPG_TABLE, PAGE_TABLE } from './prot.ts';

/** `PTI_PGTABLE_SWITCH_BIT` = PAGE_SHIFT: the user PGD is the second half of an 8 KiB pair. */
export const PTI_USER_PGD_OFFSET = 4096;

/** A pointer to one entry: `pte_t *`, `pmd_t *`, `pgd_t *`. */
export interface EntryPtr {
  /** Physical address of the table. */
  readonly table: number;
  /** Index in the table. */
  readonly index: number;
  /** Level of the table (0 = pgd). */
  readonly level: number;
}

/** `native_set_pte` (and `_pmd`, `_pud`): one store. */
export function* setEntry(p: EntryPtr, e: X86Pte): Hook { yield setPte(p.table, p.index, p.level, e); }

/** `pgdp_maps_userspace`: the low half of a PGD page maps user space. */
export const pgdMapsUserspace = (p: EntryPtr): boolean => p.level === 0 && p.index < 256;

/**
 * `native_set_pgd` -> `pti_set_user_pgd` (x86-pti.md §2b, `__pti_set_user_pgd`):
 * with PTI, a user-half entry goes to the user copy as is, and to the
 * kernel copy with NX when it is present and USER, "so that, if we somehow
 * screw up and return to usermode with the kernel CR3 loaded, we'll get a
 * page fault".
 */
export function* setPgd(p: EntryPtr, pgd: X86Pte, pti: boolean): Hook {
  if (pti && pgdMapsUserspace(p)) {
    yield setPte(p.table + PTI_USER_PGD_OFFSET, p.index, 0, pgd);
    if (pgd.P && pgd.US) pgd = { ...pgd, NX: true };
  }
  yield setPte(p.table, p.index, 0, pgd);
}

/** `pte_offset` down the tables of `root`: the pointer to `va`'s entry at `level`, if the levels above exist. */
export function entryPtr(mem: PhysMem<X86Pte>, root: number, va: VA, level = 3): EntryPtr | undefined {
  let table = root;
  for (let l = 0; l < level; l++) {
    const e = mem.readEntry(table, tableIndex(va, l));
    if (!e || !isTable(e, l)) return undefined;
    table = e.addr;
  }
  return { table, index: tableIndex(va, level), level };
}

/** How `allocEntry` names, links and reports the tables it allocates. */
export interface AllocOpts {
  /** Ghost name prefix for new tables (`pgd(mm 3)`). */
  readonly owner: string;
  /** Level of the entry wanted (3 = pte). */
  readonly level?: number;
  /** User tables get `_PAGE_TABLE`, kernel tables `_KERNPG_TABLE`. */
  readonly user: boolean;
  /** X86_FEATURE_PTI: PGD entries go through `pti_set_user_pgd`. */
  readonly pti: boolean;
  /** Told about each new table frame. */
  readonly onAlloc?: (pa: number) => void;
}

/**
 * `pud_alloc`/`pmd_alloc`/`pte_alloc`: populate missing levels above
 * `level` for `va` with zeroed table pages (`pgd_populate` -> `set_pgd`,
 * `pud_populate`, `pmd_populate`), and return the pointer at `level`.
 */
export function* allocEntry(mem: PhysMem<X86Pte>, root: number, va: VA, o: AllocOpts): Hook<EntryPtr> {
  const level = o.level ?? 3;
  let table = root;
  for (let l = 0; l < level; l++) {
    const p = { table, index: tableIndex(va, l), level: l };
    const e = mem.readEntry(table, p.index);
    if (e && isTable(e, l)) { table = e.addr; continue; }
    const next = mem.alloc('page-table', `${o.owner} L${l + 1}`, true);
    o.onAlloc?.(next);
    const link = o.user ? PAGE_TABLE(next) : KERNPG_TABLE(next);
    if (l === 0) yield* setPgd(p, link, o.pti); else yield* setEntry(p, link);
    table = next;
  }
  return { table, index: tableIndex(va, level), level };
}

/** Run a boot-time generator directly against memory (before SMP bring-up nothing interleaves). */
export function runAtBoot<T>(mem: PhysMem<X86Pte>, g: Hook<T>): T {
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return r.value;
    const op = r.value;
    if (op.op === 'set-pte') mem.writeEntry(op.table, op.index, op.pte, isNone);
  }
}
