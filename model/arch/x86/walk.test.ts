// Tests for the 4-level walk (walk.ts): page sizes, indices, combined rights (SDM §4.6.1), faults as values.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { va, type VA } from '../va.ts';
import { levelSize, NOT_PRESENT, pte, type X86Pte } from './pte.ts';
import { isCanonical, tableIndex, walk } from './walk.ts';

const ROOT = 0x1000;
const USER_TABLE = { RW: true, US: true, A: true, D: true }; // _PAGE_TABLE

/** Paging structures as a map; `map` builds the tables down to `level` and puts `leaf` there. */
function tables() {
  const mem = new Map<number, Map<number, X86Pte>>();
  let next = 0x10_0000;
  const read = (t: number, i: number): X86Pte => mem.get(t)?.get(i) ?? NOT_PRESENT;
  const set = (t: number, i: number, e: X86Pte) => { if (!mem.has(t)) mem.set(t, new Map()); mem.get(t)!.set(i, e); };
  const map = (v: VA, level: number, leaf: X86Pte, table: Partial<X86Pte> = USER_TABLE) => {
    let t = ROOT;
    for (let l = 0; l < level; l++) {
      let e = read(t, tableIndex(v, l));
      if (!e.P) { e = pte((next += 0x1000), table); set(t, tableIndex(v, l), e); }
      t = e.addr;
    }
    set(t, tableIndex(v, level), leaf);
  };
  return { read, set, map };
}

describe('walk: page sizes', () => {
  it('walks a 4 KiB page through all four levels', () => {
    const { read, map } = tables();
    const v = va('0x7f0012345000');
    map(v, 3, pte(0x300_0000, { US: true, RW: true, NX: true }));
    const w = walk(read, ROOT, v + 0x123);
    expect(w).toMatchObject({ kind: 'ok', pa: 0x300_0000, vaBase: v, level: 3, size: 4096, root: ROOT, perms: { user: true, write: true, nx: true } });
    if (w.kind !== 'ok') throw new Error();
    expect(w.path.map((s) => [s.level, s.index])).toEqual([[0, 254], [1, 0], [2, 145], [3, 0x145]]);
    expect(w.path[0].table).toBe(ROOT);
  });

  it('walks 2 MiB and 1 GiB pages (PS = 1 at levels 2 and 1), giving the 4 KiB page inside', () => {
    const { read, map } = tables();
    const k = va('0xffffffff81000000'), g = va('0xffff888000000000');
    map(k, 2, pte(0x100_0000, { PS: true, G: true }));
    map(g, 1, pte(0x4000_0000, { PS: true, RW: true, NX: true }));
    expect(walk(read, ROOT, k + 0x12_3456)).toMatchObject({ kind: 'ok', pa: 0x112_3000, vaBase: k, level: 2, size: 2 ** 21 });
    expect(walk(read, ROOT, g + 0x3fff_ffff)).toMatchObject({ kind: 'ok', pa: 0x7fff_f000, vaBase: g, level: 1, size: 2 ** 30 });
  });

  it('treats bit 7 of a PTE as PAT: still a 4 KiB page', () => {
    const { read, map } = tables();
    map(0x40_0000, 3, pte(0x5000, { PS: true }));
    expect(walk(read, ROOT, 0x40_0000)).toMatchObject({ kind: 'ok', level: 3, pa: 0x5000, size: 4096 });
  });

  it('indexes the upper half from VA[47:39] (PML4 entries 256-511)', () => {
    expect(tableIndex(va('0xffff800000000000'), 0)).toBe(256);
    expect(tableIndex(va('0xffffffff81000000'), 0)).toBe(511);
    expect(tableIndex(va('0xffffffff81000000'), 1)).toBe(510);
    expect(tableIndex(va('0xffffffff81000000'), 2)).toBe(8);
    expect(tableIndex(va('0x00007fffffffffff'), 0)).toBe(255);
  });
});

describe('walk: access rights (SDM §4.6.1)', () => {
  it('grants user access only with U/S = 1 at every level', () => {
    const { read, map } = tables();
    map(0x40_0000, 3, pte(0x5000, { US: true, RW: true }), { RW: true, A: true }); // _KERNPG_TABLE above
    expect(walk(read, ROOT, 0x40_0000)).toMatchObject({ perms: { user: false, write: true, nx: false } });
  });

  it('grants writes only with R/W = 1 at every level, and sets XD if any level has it', () => {
    const { read, map } = tables();
    map(0x40_0000, 3, pte(0x5000, { US: true, RW: true }), { US: true, NX: true });
    expect(walk(read, ROOT, 0x40_0000)).toMatchObject({ perms: { user: true, write: false, nx: true } });
  });
});

describe('walk: faults are values', () => {
  it('stops at the first non-present entry, reporting its level and the path read', () => {
    const { read, set, map } = tables();
    expect(walk(read, ROOT, 0x40_0000)).toEqual({ kind: 'fault', reason: 'not-present', level: 0, root: ROOT, path: [{ table: ROOT, index: 0, level: 0 }] });
    map(0x40_0000, 3, NOT_PRESENT);
    const w = walk(read, ROOT, 0x40_0000);
    expect(w).toMatchObject({ kind: 'fault', reason: 'not-present', level: 3 });
    expect(w.path).toHaveLength(4);
    set(ROOT, 0, { ...read(ROOT, 0), P: false });
    expect(walk(read, ROOT, 0x40_0000)).toMatchObject({ kind: 'fault', level: 0 });
  });

  it('faults on PS = 1 in a PML4E (reserved)', () => {
    const { read, set } = tables();
    set(ROOT, 0, pte(0, { PS: true }));
    expect(walk(read, ROOT, 0x1000)).toMatchObject({ kind: 'fault', reason: 'reserved', level: 0 });
  });

  it('faults on a non-canonical address (VA[47] differs from VA[63:48]) without reading anything', () => {
    const { read, map } = tables();
    map(va('0x0000800000000000'), 3, pte(0x5000));
    for (const v of [va('0x0000800000000000'), va('0xffff000000000000')]) {
      expect(isCanonical(v)).toBe(false);
      expect(walk(read, ROOT, v)).toEqual({ kind: 'fault', reason: 'non-canonical', level: 0, root: ROOT, path: [] });
    }
    expect([va('0x00007fffffffffff'), va('0xffff800000000000')].map(isCanonical)).toEqual([true, true]);
  });
});

describe('walk: any leaf', () => {
  const canonical = fc.oneof(fc.integer({ min: 0, max: 2 ** 47 - 1 }), fc.integer({ min: 2 ** 48 + 2 ** 47, max: 2 ** 49 - 1 }));
  test.prop([canonical, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 ** 20 })])(
    'maps va to the leaf base plus the page offset inside it', (v, level, frame) => {
      const { read, map } = tables();
      const size = levelSize(level), base = frame * size;
      map(v, level, pte(base, { PS: level < 3 }));
      const w = walk(read, ROOT, v);
      expect(w).toMatchObject({ kind: 'ok', level, size, vaBase: v - (v % size), pa: base + Math.floor((v % size) / 4096) * 4096 });
    });
});
