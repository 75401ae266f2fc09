// Tests for s1Walk/walkFrom (walk.ts): TTBR selection, faults per level, leaf sizes, hierarchical perms, provenance.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { va, type VA } from '../va.ts';
import { INVALID, tableDesc, type Block, type Descriptor, type LeafAttrs, type Page, type Table } from './descriptor.ts';
import type { S1TTWParams } from './sysreg.ts';
import { s1Walk, tableIndex, walkFrom, type Perms } from './walk.ts';

const ATTRS: LeafAttrs = { AttrIndx: 4, NS: false, AP: 0, SH: 3, AF: true, nG: false, Contiguous: false, PXN: false, UXN: false, POIndex: 0 };
const page = (OA: number, over: Partial<LeafAttrs> = {}): Page => ({ kind: 'page', OA, ...ATTRS, ...over });
const block = (OA: number, over: Partial<LeafAttrs> = {}): Block => ({ kind: 'block', OA, ...ATTRS, ...over });
const params = (root0: number, root1: number): S1TTWParams =>
  ({ ttbr0: { BADDR: root0, ASID: 0 }, ttbr1: { BADDR: root1, ASID: 0 }, A1: false, M: true, asid: 0 });

/** Fresh memory with five table frames: L0, L1, L2, L3 and a second root. */
function tables() {
  const mem = new PhysMem<Descriptor>(0x4000_0000, 0x10_0000);
  const [l0, l1, l2, l3, root1] = [0, 1, 2, 3, 4].map((i) => mem.claim(0x4000_0000 + i * 0x1000, 'page-table', `T${i}`, true));
  const put = (t: number, i: number, d: Descriptor) => mem.writeEntry(t, i, d, (x) => x.kind === 'invalid');
  const read = (t: number, i: number): Descriptor => mem.readEntry(t, i) ?? INVALID;
  /** Link `top` -> l1 -> l2 -> l3 for `v` down to the table holding the level-`leafLevel` entry; returns that table. */
  const link = (v: VA, leafLevel: number, over: Partial<Table>[] = [], top = l0): number => {
    const ts = [top, l1, l2, l3];
    for (let lv = 0; lv < leafLevel; lv++) put(ts[lv], tableIndex(v, lv), { ...tableDesc(ts[lv + 1]), ...over[lv] });
    return ts[leafLevel];
  };
  return { mem, l0, l1, l2, l3, root1, put, read, link };
}

describe('s1Walk', () => {
  it('walks TTBR0 for the lower VA half and TTBR1 for the upper half', () => {
    const user = va('0x0000000000401000'), kern = va('0xffff000000401000');
    expect(tableIndex(user, 0)).toBe(tableIndex(kern, 0)); // same indices: only the root can tell them apart
    const t = tables();
    t.put(t.link(kern, 3, [], t.root1), tableIndex(kern, 3), page(0x8000_0000));
    const p = params(t.l0, t.root1);
    expect(s1Walk(t.read, p, kern)).toMatchObject({ kind: 'ok', pa: 0x8000_0000, root: t.root1 });
    expect(s1Walk(t.read, p, user)).toMatchObject({ kind: 'fault', statuscode: 'translation', level: 0, root: t.l0 });
    // Swap the roots: now the lower half reaches the mapping and the upper half faults.
    const q = params(t.root1, t.l0);
    expect(s1Walk(t.read, q, user)).toMatchObject({ kind: 'ok', pa: 0x8000_0000, root: t.root1 });
    expect(s1Walk(t.read, q, kern)).toMatchObject({ kind: 'fault', statuscode: 'translation', level: 0, root: t.l0 });
  });

  it.each([0, 1, 2, 3])('reports a translation fault at level %i when that entry is invalid', (level) => {
    const t = tables(), v = va('0xffff800012345678');
    t.link(v, level);
    expect(s1Walk(t.read, params(0, t.l0), v)).toMatchObject({ kind: 'fault', statuscode: 'translation', level, root: t.l0 });
  });

  it('translates through a level 1 block (1 GiB)', () => {
    const t = tables(), v = 0x4000_0000 + 0x123_4567;
    t.put(t.link(v, 1), tableIndex(v, 1), block(0x8000_0000));
    expect(s1Walk(t.read, params(t.l0, 0), v)).toMatchObject({ kind: 'ok', pa: 0x8123_4000, vaBase: 0x4000_0000, size: 2 ** 30, level: 1 });
  });

  it('translates through a level 2 block (2 MiB)', () => {
    const t = tables(), v = 0x60_3456;
    t.put(t.link(v, 2), tableIndex(v, 2), block(0x8020_0000));
    expect(s1Walk(t.read, params(t.l0, 0), v)).toMatchObject({ kind: 'ok', pa: 0x8020_3000, vaBase: 0x60_0000, size: 2 ** 21, level: 2 });
  });

  it('translates through a level 3 page (4 KiB); pa is the page frame', () => {
    const t = tables(), v = va('0x00007ffffffff123');
    t.put(t.link(v, 3), tableIndex(v, 3), page(0x9000_0000));
    const w = s1Walk(t.read, params(t.l0, 0), v);
    expect(w).toMatchObject({ kind: 'ok', pa: 0x9000_0000, vaBase: va('0x00007ffffffff000'), size: 4096, level: 3 });
    expect(w.kind === 'ok' && w.leaf).toEqual(page(0x9000_0000));
  });

  it('maps a randomly placed page to its OA, with the path of its indices', () => {
    const idx = fc.nat({ max: 511 });
    fc.assert(fc.property(fc.boolean(), idx, idx, idx, idx, fc.nat({ max: 4095 }), fc.nat({ max: 2 ** 24 - 1 }), (upper, i0, i1, i2, i3, off, pfn) => {
      const base = (upper ? 2 ** 48 : 0) + i0 * 2 ** 39 + i1 * 2 ** 30 + i2 * 2 ** 21 + i3 * 2 ** 12;
      const t = tables();
      t.put(t.link(base, 3), i3, page(pfn * 4096));
      const w = s1Walk(t.read, upper ? params(0, t.l0) : params(t.l0, 0), base + off);
      expect(w).toMatchObject({ kind: 'ok', pa: pfn * 4096, vaBase: base, size: 4096, level: 3, root: t.l0 });
      expect(w.kind === 'ok' && w.path.map((s) => s.index)).toEqual([i0, i1, i2, i3]);
    }), { numRuns: 100 });
  });
});

describe('hierarchical permissions (APTable, UXNTable, PXNTable)', () => {
  const all: Perms = { el0: true, write: true, uxn: false, pxn: false };
  it.each<[string, Partial<Table>[], Partial<LeafAttrs>, Perms]>([
    ['leaf AP=01 alone', [], { AP: 1 }, all],
    ['leaf AP=00 (EL1 only)', [], { AP: 0 }, { ...all, el0: false }],
    ['leaf AP=10 (EL1 read-only)', [], { AP: 2 }, { ...all, el0: false, write: false }],
    ['leaf UXN and PXN', [], { AP: 1, UXN: true, PXN: true }, { ...all, uxn: true, pxn: true }],
    ['APTable[0] at L0', [{ APTable: 1 }], { AP: 1 }, { ...all, el0: false }],
    ['APTable[1] at L1', [{}, { APTable: 2 }], { AP: 1 }, { ...all, write: false }],
    ['APTable=11 at L2', [{}, {}, { APTable: 3 }], { AP: 1 }, { ...all, el0: false, write: false }],
    ['UXNTable at L1', [{}, { UXNTable: true }], { AP: 1 }, { ...all, uxn: true }],
    ['PXNTable at L2', [{}, {}, { PXNTable: true }], { AP: 1 }, { ...all, pxn: true }],
    ['PXNTable at L0, leaf PXN clear', [{ PXNTable: true }], { AP: 3 }, { ...all, write: false, pxn: true }],
  ])('%s', (_name, over, attrs, perms) => {
    const t = tables(), v = va('0x0000000000400000');
    t.put(t.link(v, 3, over), tableIndex(v, 3), page(0x8000_0000, attrs));
    const w = s1Walk(t.read, params(t.l0, 0), v);
    expect(w.kind === 'ok' && w.perms).toEqual(perms);
  });

  it('applies APTable above a level 1 block', () => {
    const t = tables(), v = 0x4000_0000;
    t.put(t.link(v, 1, [{ APTable: 2, UXNTable: true }]), tableIndex(v, 1), block(0x8000_0000, { AP: 1 }));
    const w = s1Walk(t.read, params(t.l0, 0), v);
    expect(w.kind === 'ok' && w.perms).toEqual({ el0: true, write: false, uxn: true, pxn: false });
  });

  it('folds random table bits: any restriction on the way down applies', () => {
    const tbl = fc.record({ APTable: fc.nat({ max: 3 }), UXNTable: fc.boolean(), PXNTable: fc.boolean() });
    const leaf = fc.record({ AP: fc.nat({ max: 3 }), UXN: fc.boolean(), PXN: fc.boolean() });
    fc.assert(fc.property(fc.tuple(tbl, tbl, tbl), leaf, (over, attrs) => {
      const t = tables(), v = va('0xffff000008081000');
      t.put(t.link(v, 3, over), tableIndex(v, 3), page(0x8000_0000, attrs));
      const w = s1Walk(t.read, params(0, t.l0), v);
      expect(w.kind === 'ok' && w.perms).toEqual({
        el0: (attrs.AP & 1) === 1 && over.every((o) => (o.APTable & 1) === 0),
        write: (attrs.AP & 2) === 0 && over.every((o) => (o.APTable & 2) === 0),
        uxn: attrs.UXN || over.some((o) => o.UXNTable),
        pxn: attrs.PXN || over.some((o) => o.PXNTable),
      });
    }), { numRuns: 100 });
  });
});

describe('walk provenance', () => {
  it('records every entry read, level by level, ending at the leaf', () => {
    const t = tables(), v = va('0xffff000008081000');
    t.put(t.link(v, 3), tableIndex(v, 3), page(0x8000_0000));
    const w = s1Walk(t.read, params(0, t.l0), v);
    expect(w.kind === 'ok' && w.path).toEqual([
      { table: t.l0, index: 0, level: 0 }, { table: t.l1, index: 0, level: 1 },
      { table: t.l2, index: 64, level: 2 }, { table: t.l3, index: 129, level: 3 },
    ]);
  });

  it('has one step per level for a block leaf', () => {
    const t = tables(), v = 0x60_0000;
    t.put(t.link(v, 2), tableIndex(v, 2), block(0x8000_0000));
    const w = s1Walk(t.read, params(t.l0, 0), v);
    expect(w.kind === 'ok' && w.path.map((s) => [s.table, s.level])).toEqual([[t.l0, 0], [t.l1, 1], [t.l2, 2]]);
  });

  it('walkFrom starts at the given table and level but reports the root', () => {
    const t = tables(), v = 0x60_1000;
    t.put(t.link(v, 3), tableIndex(v, 3), page(0x8000_0000));
    const w = walkFrom(t.read, t.l0, v, 2, t.l2);
    expect(w).toMatchObject({ kind: 'ok', root: t.l0, pa: 0x8000_0000, level: 3 });
    expect(w.kind === 'ok' && w.path).toEqual([{ table: t.l2, index: 3, level: 2 }, { table: t.l3, index: 1, level: 3 }]);
  });
});
