// Tests for the per-CPU x86 TLB (tlb.ts): PCID/global lookup, fill dedup, invalidate, evict, the cached entries array.
import { describe, expect, it } from 'vitest';
import type { VA } from '../va.ts';
import type { Leaf } from './pte.ts';
import { entryPa, hits, X86Tlb, type X86TlbEntry } from './tlb.ts';

const LEAF: Leaf = { kind: 'page', addr: 0x8000_0000, RW: true, US: true, PWT: false, PCD: false, A: true, D: true, G: false, NX: true };

interface E { vaBase?: VA; level?: number; pa?: number; pcid?: number; global?: boolean; write?: boolean; seq?: number }
/** A TLB entry; defaults: a 4 KiB page at 0x400000 -> 0x80000000, PCID 1. */
function entry(o: E = {}): X86TlbEntry {
  const level = o.level ?? 3, pa = o.pa ?? 0x8000_0000;
  return {
    vaBase: o.vaBase ?? 0x40_0000, level, pa, pcid: o.pcid ?? 1, global: o.global ?? false,
    leaf: { ...LEAF, kind: level === 3 ? 'page' : 'large', addr: pa, G: o.global ?? false },
    perms: { user: true, write: o.write ?? true, nx: true }, root: 0x10_0000, owner: 'pgd(mm 1)',
    from: { table: 0x10_3000, index: 0, level }, seq: o.seq ?? 1,
  };
}
const tlbOf = (...es: X86TlbEntry[]): X86Tlb => { const t = new X86Tlb(); for (const e of es) t.insert(e); return t; };

describe('X86Tlb', () => {
  const p1 = entry({ vaBase: 0x40_1000, pcid: 1 });
  const p2 = entry({ vaBase: 0x40_1000, pcid: 2, pa: 0x9000_1000 });
  const g = entry({ vaBase: 0x40_1000, pcid: 7, global: true, pa: 0xa000_0000 });
  const big = entry({ vaBase: 0x40_0000, level: 2, pcid: 1, pa: 0xc000_0000 });

  it('matches an entry under its own PCID, and a global one under every PCID (SDM §4.10.2.4)', () => {
    const t = tlbOf(p1, p2, g, big);
    expect(t.lookup(0x40_1234, 1)).toEqual([big, p1, g]);
    expect(t.lookup(0x40_1234, 2)).toEqual([p2, g]);
    expect(t.lookup(0x40_1234, 3)).toEqual([g]);
    expect(t.lookup(0x40_2000, 3)).toEqual([]);
    expect([hits(p1, 0x40_1fff, 1), hits(p1, 0x40_2000, 1), hits(p1, 0x40_1000, 2), hits(g, 0x40_1000, 99)]).toEqual([true, false, false, true]);
    expect(entryPa(big, 0x41_2345)).toBe(0xc001_2000);
  });

  it('replaces an identical translation instead of duplicating it, and keeps different ones', () => {
    const again = { ...p1, seq: 9, owner: 'pgd(mm 1) again' };
    const t = tlbOf(p1, again);
    expect([t.size, t.entries()]).toEqual([1, [again]]);
    t.insert(entry({ vaBase: 0x40_1000, write: false, seq: 10 }));
    t.insert(entry({ vaBase: 0x40_1000, global: true, seq: 11 }));
    expect(t.size).toBe(3);
    expect(t.insert(p2)).toBeUndefined();
  });

  it('invalidates what the predicate picks among entries filled before seq', () => {
    const t = tlbOf(entry({ seq: 1 }), entry({ vaBase: 0x40_1000, seq: 5 }), entry({ vaBase: 0x40_2000, pcid: 2, seq: 2 }));
    expect(t.invalidate((e) => e.pcid === 1, 3)).toBe(1);
    expect(t.entries().map((e) => e.seq).sort()).toEqual([2, 5]);
    expect(t.invalidate(() => true)).toBe(2);
    expect([t.size, t.entries()]).toEqual([0, []]);
  });

  it('evicts the n-th entry (mod size) in fill order', () => {
    const [a, b, c] = [3, 1, 2].map((seq) => entry({ vaBase: 0x40_0000 + seq * 0x1000, seq }));
    const t = tlbOf(a, b, c);
    expect(t.evict(4)).toBe(c);
    expect(t.entries()).toEqual([a, b]);
    expect(new X86Tlb().evict(0)).toBeUndefined();
  });

  it('keeps the entries() array until a change, and clones independently', () => {
    const t = tlbOf(p1);
    const before = t.entries();
    expect(t.entries()).toBe(before);
    const c = t.clone();
    t.insert(p2);
    expect(t.entries()).not.toBe(before);
    expect([c.size, c.entries()]).toEqual([1, [p1]]);
    expect(t.invalidate(() => false)).toBe(0);
  });
});
