// Page-table stores (pgtable.ts): `native_set_pgd` through
// `pti_set_user_pgd` (docs/sources/x86-pti.md §2a-2b), and `allocEntry`,
// `entryPtr` and `runAtBoot` building a user mapping in an 8 KiB PGD pair.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../../arch/phys.ts';
import { va } from '../../arch/va.ts';
import { setPte } from '../../arch/x86/ops.ts';
import { mayBeTable, NOT_PRESENT, type X86Pte } from '../../arch/x86/pte.ts';
import { pgdPages } from './image.ts';
import { RAM_SIZE } from './layout.ts';
import { allocEntry, entryPtr, pgdMapsUserspace, PTI_USER_PGD_OFFSET, runAtBoot, setEntry, setPgd } from './pgtable.ts';
import { KERNPG_TABLE, PAGE_TABLE } from './prot.ts';

const T = 0x10_0000, NEXT = 0x20_0000;
const pgd = (index: number) => ({ table: T, index, level: 0 });

describe('native_set_pgd (pti_set_user_pgd)', () => {
  it('under PTI a present USER entry in the user half goes to the user copy as is, and to the kernel copy with NX', () => {
    const e = PAGE_TABLE(NEXT);
    expect(e.NX).toBe(false);
    expect([...setPgd(pgd(1), e, true)]).toEqual([setPte(T + PTI_USER_PGD_OFFSET, 1, 0, e), setPte(T, 1, 0, { ...e, NX: true })]);
  });

  it('under PTI a kernel-half index is one store to the kernel copy', () => {
    const e = KERNPG_TABLE(NEXT);
    expect([...setPgd(pgd(256), e, true)]).toEqual([setPte(T, 256, 0, e)]);
    expect([...setPgd(pgd(511), PAGE_TABLE(NEXT), true)]).toEqual([setPte(T, 511, 0, PAGE_TABLE(NEXT))]);
  });

  it('under PTI no NX for an entry without USER or without P (clearing): both copies get the same value', () => {
    const k = KERNPG_TABLE(NEXT);
    expect([...setPgd(pgd(255), k, true)]).toEqual([setPte(T + 4096, 255, 0, k), setPte(T, 255, 0, k)]);
    expect([...setPgd(pgd(3), NOT_PRESENT, true)]).toEqual([setPte(T + 4096, 3, 0, NOT_PRESENT), setPte(T, 3, 0, NOT_PRESENT)]);
  });

  it('without PTI is one plain store, without NX', () => {
    expect([...setPgd(pgd(1), PAGE_TABLE(NEXT), false)]).toEqual([setPte(T, 1, 0, PAGE_TABLE(NEXT))]);
  });

  it('pgdp_maps_userspace: PGD indices 0-255 only', () => {
    expect([0, 255, 256, 511].map((index) => pgdMapsUserspace(pgd(index)))).toEqual([true, true, false, false]);
    expect(pgdMapsUserspace({ table: T, index: 1, level: 1 })).toBe(false);
  });
});

describe('allocEntry, entryPtr, runAtBoot', () => {
  /** A fresh 8 KiB PGD pair in 64 MiB of RAM. */
  function pair() {
    const mem = new PhysMem<X86Pte>(0, RAM_SIZE, mayBeTable);
    const root = pgdPages(mem, 'pgd(mm 9)', true);
    return { mem, root };
  }
  const V = va('0x401000');

  it('populates the missing levels with _PAGE_TABLE entries, the PGD one in both copies (NX in the kernel copy)', () => {
    const { mem, root } = pair();
    const tables: number[] = [];
    const p = runAtBoot(mem, allocEntry(mem, root, V, { owner: 'pgd(mm 9)', user: true, pti: true, onAlloc: (t) => tables.push(t) }));
    expect(tables).toHaveLength(3);
    expect(p).toEqual({ table: tables[2], index: 1, level: 3 });
    expect(mem.readEntry(root + PTI_USER_PGD_OFFSET, 0)).toEqual(PAGE_TABLE(tables[0]));
    expect(mem.readEntry(root, 0)).toEqual({ ...PAGE_TABLE(tables[0]), NX: true });
    expect(mem.readEntry(tables[0], 0)).toEqual(PAGE_TABLE(tables[1]));
    expect(mem.readEntry(tables[1], 2)).toEqual(PAGE_TABLE(tables[2]));
    expect(mem.frame(tables[2])!.name).toBe('pgd(mm 9) L3');
    expect(entryPtr(mem, root, V)).toEqual(p);
    expect(entryPtr(mem, root, V, 1)).toEqual({ table: tables[0], index: 0, level: 1 });
  });

  it('walks existing tables without a store, and entryPtr is undefined where a level is missing', () => {
    const { mem, root } = pair();
    runAtBoot(mem, allocEntry(mem, root, V, { owner: 'x', user: true, pti: true }));
    const again = allocEntry(mem, root, va('0x402000'), { owner: 'x', user: true, pti: true, onAlloc: () => { throw new Error('allocated'); } });
    const r = again.next();
    expect(r.done && r.value.index).toBe(2);
    expect(entryPtr(mem, root, va('0x7fffff000'))).toBeUndefined(); // another PUD entry: absent
  });

  it('kernel tables get _KERNPG_TABLE, and level 2 stops at the PMD', () => {
    const { mem, root } = pair();
    const tables: number[] = [];
    const K = va('0xffffffff81c00000');
    const p = runAtBoot(mem, allocEntry(mem, root, K, { owner: 'k', level: 2, user: false, pti: true, onAlloc: (t) => tables.push(t) }));
    expect(p).toEqual({ table: tables[1], index: 14, level: 2 });
    expect(mem.readEntry(root, 511)).toEqual(KERNPG_TABLE(tables[0]));
    expect(mem.readEntry(root + PTI_USER_PGD_OFFSET, 511)).toBeUndefined();
  });

  it('runAtBoot applies set-pte ops to memory and returns the hook value; the all-zero entry is removed', () => {
    const { mem, root } = pair();
    const e = PAGE_TABLE(NEXT);
    expect(runAtBoot(mem, (function* () { yield* setEntry({ table: root, index: 7, level: 0 }, e); return 42; })())).toBe(42);
    expect(mem.readEntry(root, 7)).toEqual(e);
    runAtBoot(mem, setEntry({ table: root, index: 7, level: 0 }, NOT_PRESENT));
    expect(mem.frame(root)!.table!.has(7)).toBe(false);
  });
});
