// Tests for the x86 page walk (walk.ts): indices, faults per level, 1G/2M/4K leaves, effective U/S, R/W, XD.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { va, type VA } from '../va.ts';
import { INVALID, kernpgTable, pageTable, type Entry, type Leaf, type Table } from './pte.ts';
import { atLevel, tableIndex, walk } from './walk.ts';

const FLAGS = { RW: true, US: true, PWT: false, PCD: false, A: true, D: true, G: false, NX: false };
const page = (addr: number, over: Partial<Leaf> = {}): Leaf => ({ kind: 'page', addr, ...FLAGS, ...over });
const large = (addr: number, over: Partial<Leaf> = {}): Leaf => ({ kind: 'large', addr, ...FLAGS, ...over });

/** Four table frames (PML4, PDPT, PD, PT) in fresh memory. */
function tables() {
  const mem = new PhysMem<Entry>(0x10_0000, 0x10_0000, (e) => e.kind === 'table');
  const [pml4, pdpt, pd, pt] = [0, 1, 2, 3].map((i) => mem.claim(0x10_0000 + i * 0x1000, 'page-table', `T${i}`, true));
  const put = (t: number, i: number, e: Entry) => mem.writeEntry(t, i, e, (x) => x.kind === 'invalid');
  const read = (t: number, i: number): Entry => mem.readEntry(t, i) ?? INVALID;
  /** Link pml4 -> pdpt -> pd -> pt for `v` above `leafLevel`, with per-level overrides; returns the table holding the leaf. */
  const link = (v: VA, leafLevel: number, over: Partial<Table>[] = []): number => {
    const ts = [pml4, pdpt, pd, pt];
    for (let lv = 0; lv < leafLevel; lv++) put(ts[lv], tableIndex(v, lv), { ...pageTable(ts[lv + 1]), ...over[lv] });
    return ts[leafLevel];
  };
  return { mem, pml4, pdpt, pd, pt, put, read, link };
}

describe('walk', () => {
  it('indexes VA[47:39], [38:30], [29:21], [20:12], the same in both halves', () => {
    const v = va('0x00007f8012345678');
    expect([0, 1, 2, 3].map((l) => tableIndex(v, l))).toEqual([0xff, 0x0, 0x91, 0x145]);
    const k = va('0xffffff8012345678');
    expect([0, 1, 2, 3].map((l) => tableIndex(k, l))).toEqual([0x1ff, 0x0, 0x91, 0x145]);
    expect(tableIndex(va('0xffff800000000000'), 0)).toBe(256);
  });

  it('translates a 4 KiB page and records the path', () => {
    const t = tables(), v = va('0x00007f8012345678');
    t.put(t.link(v, 3), tableIndex(v, 3), page(0x9000_0000));
    const w = walk(t.read, t.pml4, v);
    expect(w).toMatchObject({ kind: 'ok', pa: 0x9000_0000, vaBase: v - 0x678, size: 4096, level: 3, root: t.pml4, perms: { user: true, write: true, nx: false } });
    expect(w.kind === 'ok' && w.path).toEqual([
      { table: t.pml4, index: 0xff, level: 0 }, { table: t.pdpt, index: 0, level: 1 },
      { table: t.pd, index: 0x91, level: 2 }, { table: t.pt, index: 0x145, level: 3 },
    ]);
  });

  it('translates through a PDPTE with PS set (1 GiB)', () => {
    const t = tables(), v = 0x4000_0000 + 0x123_4567;
    t.put(t.link(v, 1), tableIndex(v, 1), large(0x8000_0000));
    expect(walk(t.read, t.pml4, v)).toMatchObject({ kind: 'ok', pa: 0x8123_4000, vaBase: 0x4000_0000, size: 2 ** 30, level: 1 });
  });

  it('translates through a PDE with PS set (2 MiB)', () => {
    const t = tables(), v = va('0xffffffff81c12345');
    t.put(t.link(v, 2), tableIndex(v, 2), large(0x0100_0000, { US: false, G: true }));
    const w = walk(t.read, t.pml4, v);
    expect(w).toMatchObject({ kind: 'ok', pa: 0x0101_2000, vaBase: va('0xffffffff81c00000'), size: 2 ** 21, level: 2, leaf: { G: true } });
    expect(w.kind === 'ok' && w.path.length).toBe(3);
  });

  it.each([0, 1, 2, 3])('reports a not-present fault at level %i', (level) => {
    const t = tables(), v = va('0x0000000000400000');
    t.link(v, level);
    expect(walk(t.read, t.pml4, v)).toEqual({ kind: 'fault', level, root: t.pml4 });
  });

  it('faults on a PML4E with PS set (reserved)', () => {
    const t = tables(), v = 0x8000_0000;
    t.put(t.pml4, tableIndex(v, 0), large(0));
    expect(walk(t.read, t.pml4, v)).toEqual({ kind: 'fault', level: 0, root: t.pml4 });
  });

  describe('effective rights (SDM §4.6.1)', () => {
    const v = va('0x0000000000401000');
    const perms = (over: Partial<Table>[], leaf: Partial<Leaf> = {}) => {
      const t = tables();
      t.put(t.link(v, 3, over), tableIndex(v, 3), page(0x9000_0000, leaf));
      const w = walk(t.read, t.pml4, v);
      return w.kind === 'ok' ? w.perms : undefined;
    };
    const at = (level: number, o: Partial<Table>) => Array.from({ length: 3 }, (_, i) => (i === level ? o : {}));

    it.each([0, 1, 2])('U/S clear in the level %i table entry denies user mode (AND)', (level) => {
      expect(perms(at(level, { US: false }))).toEqual({ user: false, write: true, nx: false });
    });
    it.each([0, 1, 2])('R/W clear in the level %i table entry denies writes (AND)', (level) => {
      expect(perms(at(level, { RW: false }))).toEqual({ user: true, write: false, nx: false });
    });
    it.each([0, 1, 2])('XD set in the level %i table entry denies fetches (OR)', (level) => {
      expect(perms(at(level, { NX: true }))).toEqual({ user: true, write: true, nx: true });
    });
    it('takes the leaf\'s own U/S, R/W and XD too', () => {
      expect(perms([], { US: false })).toEqual({ user: false, write: true, nx: false });
      expect(perms([], { RW: false, NX: true })).toEqual({ user: true, write: false, nx: true });
      expect(perms([kernpgTable(0), kernpgTable(0), kernpgTable(0)].map(({ US }) => ({ US })))).toMatchObject({ user: false });
    });
  });

  test.prop([fc.nat({ max: 2 ** 21 - 1 })])('gives the 4 KiB page of any VA inside a 2 MiB page', (off) => {
    const t = tables(), base = 0x20_0000;
    t.put(t.link(base, 2), tableIndex(base, 2), large(0x4060_0000));
    expect(walk(t.read, t.pml4, base + off)).toMatchObject({ kind: 'ok', pa: 0x4060_0000 + off - (off % 4096), vaBase: base });
  });
});

describe('atLevel', () => {
  it('reads an entry stored at the wrong level by its bits', () => {
    expect(atLevel(large(0x20_0000), 3)).toEqual(page(0x20_0000)); // bit 7 is PAT in a PTE
    expect(atLevel(page(0x5000, { G: true, D: true }), 2)).toEqual({ kind: 'table', addr: 0x5000, RW: true, US: true, PWT: false, PCD: false, A: true, NX: false });
    expect(atLevel(pageTable(0x5000), 3)).toEqual(page(0x5000, { D: false }));
    expect(atLevel(large(0), 0)).toEqual(INVALID);
    const fits = large(0x4000_0000);
    expect(atLevel(fits, 1)).toBe(fits);
  });
});
