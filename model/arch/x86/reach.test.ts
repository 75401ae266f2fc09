// Tests for reachability from a CR3 root (reach.ts): both halves, large pages, memoisation.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { va, type VA } from '../va.ts';
import { isNone, mayBeTable, NOT_PRESENT, pte, type X86Pte } from './pte.ts';
import { pgdVa, reachable } from './reach.ts';
import { tableIndex } from './walk.ts';

const PGD = 0x10_0000, PGD_B = 0x10_1000;
const KTEXT = va('0xffffffff81000000'), UDATA = va('0x400000'), DIRECT = va('0xffff888000000000');

function setup() {
  const mem = new PhysMem<X86Pte>(0x10_0000, 0x100_0000, mayBeTable);
  mem.claim(PGD, 'page-table', 'pgd(mm 1)', true);
  mem.claim(PGD_B, 'page-table', 'pgd(mm 2)', true);
  const tables: number[] = [];
  const map = (root: number, v: VA, level: number, leaf: X86Pte) => {
    let t = root;
    for (let l = 0; l < level; l++) {
      let e = mem.readEntry(t, tableIndex(v, l));
      if (!e) { e = pte(mem.alloc('page-table', `L${l + 1}`, true), { RW: true }); tables.push(e.addr); mem.writeEntry(t, tableIndex(v, l), e, isNone); }
      t = e.addr;
    }
    mem.writeEntry(t, tableIndex(v, level), leaf, isNone);
  };
  map(PGD, UDATA, 3, pte(0x300_0000, { US: true }));
  map(PGD, KTEXT, 2, pte(0x100_0000, { PS: true, G: true }));
  map(PGD, DIRECT, 1, pte(0, { PS: true, RW: true, NX: true }));
  map(PGD_B, UDATA + 0x1000, 3, pte(0x400_0000, { US: true }));
  return { mem, tables, map };
}

describe('reachable', () => {
  it('lists every leaf of both halves in VA order, sign-extending PML4 entries 256-511', () => {
    const { mem } = setup();
    const r = reachable(mem, PGD);
    expect(r.map((x) => [x.vaBase, x.size, x.pa, x.level])).toEqual([
      [UDATA, 4096, 0x300_0000, 3], [DIRECT, 2 ** 30, 0, 1], [KTEXT, 2 ** 21, 0x100_0000, 2],
    ]);
    expect(r[2].text).toBe('ro PSE GLB x pmd pa=0x1000000');
    expect([pgdVa(0), pgdVa(255), pgdVa(256), pgdVa(511)]).toEqual([0, 255 * 2 ** 39, va('0xffff800000000000'), va('0xffffff8000000000')]);
  });

  it('memoises per (root, mem.version) and recomputes after a store', () => {
    const { mem, map } = setup();
    const m = { mem };
    const a = reachable(m, PGD);
    expect(reachable(mem, PGD)).toBe(a);
    map(PGD, UDATA + 0x2000, 3, pte(0x500_0000));
    const b = reachable(mem, PGD);
    expect(b).not.toBe(a);
    expect(b).toHaveLength(4);
    expect(reachable(mem, PGD_B)).toHaveLength(1);
  });

  it('skips non-present and reserved entries', () => {
    const { mem } = setup();
    mem.writeEntry(PGD, 3, pte(0x1234_5000, { PS: true }), isNone); // PS in a PML4E
    mem.writeEntry(PGD, 4, { ...NOT_PRESENT, G: true }, isNone);
    expect(reachable(mem, PGD)).toHaveLength(3);
  });
});
