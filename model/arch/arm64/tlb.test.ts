// Tests for the per-CPU TLB (tlb.ts): ASID/global lookup, fill dedup, BBM conflicts, invalidate, evict; TLBI scopes (tlbi.ts).
import { describe, expect, it } from 'vitest';
import type { VA } from '../va.ts';
import type { Leaf, LeafAttrs } from './descriptor.ts';
import type { Op } from './ops.ts';
import { Tlb, type TlbEntry } from './tlb.ts';
import { tlbiMatches } from './tlbi.ts';
import type { Perms } from './walk.ts';

const ATTRS: LeafAttrs = { AttrIndx: 4, NS: false, AP: 0, SH: 3, AF: true, nG: false, Contiguous: false, PXN: false, UXN: false, POIndex: 0 };
const PERMS: Perms = { el0: false, write: true, uxn: true, pxn: false };

interface E { vaBase?: VA; level?: number; oa?: number; asid?: number; attrs?: Partial<LeafAttrs>; perms?: Partial<Perms>; seq?: number }
/** A TLB entry; nG follows `asid` (undefined: global). Defaults: a 4 KiB page at 0x400000 -> 0x80000000. */
function entry(o: E = {}): TlbEntry {
  const level = o.level ?? 3, oa = o.oa ?? 0x8000_0000;
  const leaf: Leaf = { kind: level === 3 ? 'page' : 'block', OA: oa, ...ATTRS, nG: o.asid !== undefined, ...o.attrs };
  return {
    vaBase: o.vaBase ?? 0x40_0000, level, oa, asid: o.asid, leaf, perms: { ...PERMS, ...o.perms },
    root: 0x4000_0000, owner: 'pgd', from: { table: 0x4000_3000, index: 0, level }, seq: o.seq ?? 1,
  };
}
const tlbOf = (...es: TlbEntry[]): Tlb => { const t = new Tlb(); for (const e of es) t.insert(e); return t; };

describe('Tlb.lookup', () => {
  const g = entry({ vaBase: 0x40_0000 });
  const a1 = entry({ vaBase: 0x40_1000, asid: 1, oa: 0x8000_1000 });
  const a2 = entry({ vaBase: 0x40_1000, asid: 2, oa: 0x9000_1000 });
  const l2 = entry({ vaBase: 0x20_0000, level: 2, oa: 0x8020_0000 });
  const l1 = entry({ vaBase: 0x4000_0000, level: 1, oa: 0xc000_0000, asid: 1 });
  const t = tlbOf(g, a1, a2, l2, l1);

  it('matches non-global entries only under their own ASID', () => {
    expect(t.lookup(0x40_1234, 1)).toEqual([a1]);
    expect(t.lookup(0x40_1234, 2)).toEqual([a2]);
    expect(t.lookup(0x40_1234, 3)).toEqual([]);
    expect(t.lookup(0x40_1fff, 1)).toEqual([a1]);
    expect(t.lookup(0x40_2000, 1)).toEqual([]);
  });

  it('matches global entries under every ASID', () => {
    for (const asid of [0, 1, 7]) expect(t.lookup(0x40_0fff, asid)).toEqual([g]);
  });

  it('finds level 1 and level 2 blocks from any VA inside them, and nothing outside', () => {
    expect(t.lookup(0x3f_ffff, 5)).toEqual([l2]);
    expect(t.lookup(0x7fff_f000, 1)).toEqual([l1]);
    expect(t.lookup(0x7fff_f000, 2)).toEqual([]);
    expect(t.lookup(0x40_2000, 1)).toEqual([]);
    expect(t.size).toBe(5);
  });
});

describe('Tlb.insert', () => {
  it('does not duplicate an identical fill', () => {
    const t = tlbOf(entry({ asid: 1, seq: 1 }));
    expect(t.insert(entry({ asid: 1, seq: 2 }))).toEqual([]);
    expect(t.size).toBe(1);
    expect(t.entries()).toHaveLength(1);
  });

  it.each<[string, E, E]>([
    ['different OA', { asid: 1 }, { asid: 1, oa: 0x8800_0000 }],
    ['different OA, old global and new nG', {}, { asid: 1, oa: 0x8800_0000 }],
    ['different block size (2 MiB block vs page, same PA)', { level: 2 }, { vaBase: 0x40_1000, oa: 0x8000_1000 }],
    ['different memory type (AttrIndx)', {}, { attrs: { AttrIndx: 0 } }],
    ['different shareability', {}, { attrs: { SH: 0 } }],
    ['nG 1 -> 0: older nG entry, new global entry', { asid: 5 }, {}],
  ])('reports a conflict for %s', (_name, old, next) => {
    const o = entry({ ...old, seq: 1 });
    const t = tlbOf(o);
    expect(t.insert(entry({ ...next, seq: 2 }))).toEqual([o]);
    expect(t.size).toBe(2);
  });

  it.each<[string, E, E]>([
    ['read-only vs writable', {}, { attrs: { AP: 2 }, perms: { write: false } }],
    ['PXN change', {}, { attrs: { PXN: true }, perms: { pxn: true } }],
    ['EL0 access change', { asid: 1 }, { asid: 1, attrs: { AP: 1 }, perms: { el0: true } }],
    ['global -> nG (older global entry, new nG entry)', {}, { asid: 3 }],
    ['different OA under different ASIDs', { asid: 1 }, { asid: 2, oa: 0x8800_0000 }],
    ['non-overlapping VAs', {}, { vaBase: 0x40_1000, oa: 0x8800_0000 }],
  ])('reports no conflict for %s, and keeps both entries', (_name, old, next) => {
    const t = tlbOf(entry({ ...old, seq: 1 }));
    expect(t.insert(entry({ ...next, seq: 2 }))).toEqual([]);
    expect(t.size).toBe(2);
  });

  it('reports every conflicting entry', () => {
    const a = entry({ asid: 1, seq: 1 }), b = entry({ asid: 2, seq: 2 }), c = entry({ asid: 3, seq: 3, oa: 0x8800_0000 });
    const t = tlbOf(a, b, c);
    expect(t.insert(entry({ seq: 4, oa: 0x8800_0000 }))).toEqual([a, b, c]); // OA change for a, b; nG -> global for c
  });
});

describe('Tlb.invalidate and Tlb.evict', () => {
  const at = (i: number, seq: number, asid?: number) => entry({ vaBase: 0x40_0000 + i * 0x1000, oa: 0x8000_0000 + i * 0x1000, seq, asid });

  it('removes only matching entries filled before the given seq', () => {
    const t = tlbOf(at(0, 1), at(1, 2), at(2, 3));
    expect(t.invalidate(() => true, 3)).toBe(2);
    expect(t.entries().map((e) => e.seq)).toEqual([3]);
    expect(t.size).toBe(1);
    expect(t.lookup(0x40_0000, 0)).toEqual([]);
  });

  it('applies the predicate', () => {
    const t = tlbOf(at(0, 1, 1), at(1, 2, 2), at(2, 3));
    expect(t.invalidate((e) => e.asid === 1, Infinity)).toBe(1);
    expect(t.entries().map((e) => e.seq).sort()).toEqual([2, 3]);
  });

  it('evicts by position in fill order, modulo the size', () => {
    const t = tlbOf(at(0, 3), at(1, 1), at(2, 2));
    expect(t.evict(1)?.seq).toBe(2);
    expect(t.evict(5)?.seq).toBe(3); // 5 mod 2 = 1: the later of seq 1 and 3
    expect(t.size).toBe(1);
    expect(t.evict(0)?.seq).toBe(1);
    expect(t.evict(0)).toBeUndefined();
    expect(t.size).toBe(0);
  });
});

describe('tlbiMatches (TLBI scopes)', () => {
  const A = 0x40_0000, B = 0x50_0000;
  const es: Record<string, TlbEntry> = {
    gA: entry({ vaBase: A }), n1A: entry({ vaBase: A, asid: 1 }), n2A: entry({ vaBase: A, asid: 2 }),
    gB: entry({ vaBase: B }), n1B: entry({ vaBase: B, asid: 1 }),
  };
  const tlbi = (type: Extract<Op, { op: 'tlbi' }>['type'], arg: { va?: VA; asid?: number }): Extract<Op, { op: 'tlbi' }> => ({ op: 'tlbi', type, is: true, ...arg });
  const matched = (op: Extract<Op, { op: 'tlbi' }>) => Object.keys(es).filter((k) => tlbiMatches(op, es[k]));

  it.each<[string, Extract<Op, { op: 'tlbi' }>, string[]]>([
    ['VAE1 matches the ASID or global, at the VA', tlbi('VAE1', { va: A + 0xabc, asid: 1 }), ['gA', 'n1A']],
    ['VALE1 matches the ASID or global, at the VA', tlbi('VALE1', { va: A, asid: 2 }), ['gA', 'n2A']],
    ['VAE1 with an unused ASID still hits global', tlbi('VAE1', { va: B, asid: 9 }), ['gB']],
    ['VAAE1 matches any ASID at the VA', tlbi('VAAE1', { va: A }), ['gA', 'n1A', 'n2A']],
    ['VAALE1 matches any ASID at the VA', tlbi('VAALE1', { va: B }), ['gB', 'n1B']],
    ['ASIDE1 matches the ASID everywhere, never global', tlbi('ASIDE1', { asid: 1 }), ['n1A', 'n1B']],
    ['VMALLE1 matches everything', tlbi('VMALLE1', {}), ['gA', 'n1A', 'n2A', 'gB', 'n1B']],
  ])('%s', (_name, op, expected) => { expect(matched(op)).toEqual(expected); });

  it('VA forms match a block containing the VA', () => {
    const blk = entry({ vaBase: 0x60_0000, level: 2, asid: 4 });
    expect(tlbiMatches(tlbi('VAE1', { va: 0x7f_f000, asid: 4 }), blk)).toBe(true);
    expect(tlbiMatches(tlbi('VAE1', { va: 0x80_0000, asid: 4 }), blk)).toBe(false);
    expect(tlbiMatches(tlbi('VAAE1', { va: 0x60_1000 }), blk)).toBe(true);
  });
});
