// Tests for the per-CPU x86 TLB (tlb.ts): PCID/global lookup (SDM §4.10.2.4), fill dedup, conflicts, invalidate, evict.
import { describe, expect, it } from 'vitest';
import type { VA } from '../va.ts';
import { pte } from './pte.ts';
import { covers, entryPa, hits, tagText, X86Tlb, type X86TlbEntry } from './tlb.ts';
import type { X86Perms } from './walk.ts';

const PERMS: X86Perms = { user: true, write: true, nx: true };

interface E { vaBase?: VA; level?: number; pa?: number; pcid?: number; global?: boolean; perms?: Partial<X86Perms>; seq?: number }
/** A TLB entry. Defaults: a 4 KiB page at 0x400000 -> 0x80000000 under PCID 1, filled at seq 1. */
function entry(o: E = {}): X86TlbEntry {
  const level = o.level ?? 3, pa = o.pa ?? 0x8000_0000;
  return {
    vaBase: o.vaBase ?? 0x40_0000, level, pa, pcid: o.pcid ?? 1, global: o.global ?? false, leaf: pte(pa, { PS: level < 3, G: o.global }),
    perms: { ...PERMS, ...o.perms }, root: 0x1000, owner: 'pgd(mm 1)', from: { table: 0x3000, index: 0, level }, seq: o.seq ?? 1,
  };
}
const tlbOf = (...es: X86TlbEntry[]): X86Tlb => { const t = new X86Tlb(); for (const e of es) t.insert(e); return t; };

describe('X86Tlb.lookup', () => {
  const g = entry({ vaBase: 0x40_0000, global: true, pcid: 5 });
  const p1 = entry({ vaBase: 0x40_1000, pcid: 1, pa: 0x8000_1000 });
  const p2 = entry({ vaBase: 0x40_1000, pcid: 2, pa: 0x9000_1000 });
  const big = entry({ vaBase: 0x20_0000, level: 2, pa: 0x8020_0000, pcid: 3 });
  const huge = entry({ vaBase: 0x4000_0000, level: 1, pa: 0xc000_0000, pcid: 1 });
  const t = tlbOf(g, p1, p2, big, huge);

  it('matches a non-global entry only under the PCID it was filled with (§4.10.1)', () => {
    expect(t.lookup(0x40_1234, 1)).toEqual([p1]);
    expect(t.lookup(0x40_1234, 2)).toEqual([p2]);
    expect(t.lookup(0x40_1234, 3)).toEqual([]);
    expect([hits(p1, 0x40_1fff, 1), hits(p1, 0x40_1fff, 2), hits(p1, 0x40_2000, 1)]).toEqual([true, false, false]);
  });

  it('matches a global entry under every PCID, not only the one it was filled under (§4.10.2.4)', () => {
    for (const pcid of [0, 1, 5, 0xfff]) expect(t.lookup(0x40_0fff, pcid)).toEqual([g]);
  });

  it('finds 2 MiB and 1 GiB entries from any VA inside them, and nothing outside', () => {
    expect(t.lookup(0x3f_ffff, 3)).toEqual([big]);
    expect(t.lookup(0x7fff_f000, 1)).toEqual([huge]);
    expect(t.lookup(0x7fff_f000, 2)).toEqual([]);
    expect(t.lookup(0x40_2000, 1)).toEqual([]);
    expect(t.size).toBe(5);
  });

  it('gives the PA of the 4 KiB page inside an entry, and prints its tag', () => {
    expect(entryPa(huge, 0x4123_4567)).toBe(0xc123_4000);
    expect(covers(huge, 0x8000_0000)).toBe(false);
    expect([tagText(g), tagText(entry({ pcid: 0x801 }))]).toEqual(['global', 'pcid=0x801']);
  });
});

describe('X86Tlb.insert', () => {
  it('replaces an identical translation: the fill counts as new, and the entry is not duplicated', () => {
    const t = tlbOf(entry({ seq: 1 }));
    expect(t.insert(entry({ seq: 7 }))).toEqual([]);
    expect(t.size).toBe(1);
    expect(t.entries().map((e) => e.seq)).toEqual([7]);
  });

  it('keeps translations that differ in rights side by side, without a conflict (same PA)', () => {
    const t = tlbOf(entry());
    expect(t.insert(entry({ perms: { write: false }, seq: 2 }))).toEqual([]);
    expect(t.size).toBe(2);
  });

  it('reports entries in a shared context that give another PA', () => {
    const old = entry({ pa: 0x8000_0000 });
    const t = tlbOf(old, entry({ pcid: 2, pa: 0x9000_0000 }));
    expect(t.insert(entry({ pa: 0xa000_0000, seq: 2 }))).toEqual([old]);
    // Another PCID is another context, unless either entry is global.
    expect(tlbOf(old).insert(entry({ pcid: 2, pa: 0xa000_0000 }))).toEqual([]);
    expect(tlbOf(old).insert(entry({ pcid: 2, global: true, pa: 0xa000_0000 }))).toEqual([old]);
  });

  it('reports conflicts between a large page and smaller pages inside it, both ways', () => {
    const small = entry({ vaBase: 0x20_3000, pa: 0x5000 });
    const large = entry({ vaBase: 0x20_0000, level: 2, pa: 0x8020_0000 });
    expect(tlbOf(small).insert(large)).toEqual([small]);
    expect(tlbOf(large).insert(small)).toEqual([large]);
    // The same translation at two sizes (a large page and a 4 KiB piece of it) agrees: no conflict.
    expect(tlbOf(large).insert(entry({ vaBase: 0x20_3000, pa: 0x8020_3000 }))).toEqual([]);
  });

  it('still reports the other conflicts when it replaces an identical entry', () => {
    const a = entry(), b = entry({ pcid: 1, perms: { user: false }, pa: 0x9000_0000 });
    const t = tlbOf(a, b);
    expect(t.insert(entry({ seq: 3 }))).toEqual([b]);
    expect(t.size).toBe(2);
  });
});

describe('X86Tlb.invalidate, evict, entries', () => {
  it('removes only matching entries filled before the given seq', () => {
    const t = tlbOf(entry({ seq: 1 }), entry({ vaBase: 0x40_1000, seq: 5 }), entry({ vaBase: 0x40_2000, pcid: 2, seq: 2 }));
    expect(t.invalidate((e) => e.pcid === 1, 3)).toBe(1);
    expect(t.entries().map((e) => e.vaBase).sort()).toEqual([0x40_1000, 0x40_2000]);
    expect(t.invalidate(() => true, Infinity)).toBe(2);
    expect(t.size).toBe(0);
  });

  it('evicts the nth entry in fill order, modulo the size', () => {
    const t = tlbOf(entry({ vaBase: 0x1000, seq: 3 }), entry({ vaBase: 0x2000, seq: 1 }), entry({ vaBase: 0x3000, seq: 2 }));
    expect(t.evict(4)?.vaBase).toBe(0x3000);
    expect(t.evict(0)?.vaBase).toBe(0x2000);
    expect(t.size).toBe(1);
    expect(new X86Tlb().evict(0)).toBeUndefined();
  });

  it('keeps the entries() array until the TLB changes', () => {
    const t = tlbOf(entry());
    const a = t.entries();
    expect(t.entries()).toBe(a);
    t.invalidate(() => false, Infinity);
    expect(t.entries()).toBe(a);
    t.insert(entry({ vaBase: 0x1000 }));
    expect(t.entries()).not.toBe(a);
    const b = t.entries();
    t.invalidate((e) => e.vaBase === 0x1000, Infinity);
    expect(t.entries()).not.toBe(b);
  });

  it('clones independently', () => {
    const t = tlbOf(entry());
    const c = t.clone();
    c.insert(entry({ vaBase: 0x1000 }));
    t.invalidate(() => true, Infinity);
    expect([t.size, c.size, c.entries().length]).toEqual([0, 2, 2]);
  });
});
