// The TLB conflict invariant on hand-made steps: a fill that conflicts, a
// walk-cache fill that disagrees with a cached block, and a lookup that hits
// two entries giving different pages; each beside a twin that does not.
import { describe, expect, it } from 'vitest';
import { mitigation as kpti } from '../../model/mitigations/arm64/kpti.ts';
import { Arm64Kernel, DEFAULT_OPTIONS } from '../../model/kernel/arm64/kernel.ts';
import type { TlbEntry } from '../../model/arch/arm64/tlb.ts';
import type { WalkEntry } from '../../model/arch/arm64/walkcache.ts';
import { tlbConflict } from './tlb-conflict.ts';

const k = new Arm64Kernel(kpti, DEFAULT_OPTIONS);
const entry = (oa: number): TlbEntry => ({
  vaBase: 0x400000, level: 3, oa, asid: 3, perms: { el0: true, write: true, uxn: true, pxn: true }, root: 0, owner: 'pgd(mm 1)',
  leaf: { kind: 'page', OA: oa, AttrIndx: 4, NS: false, AP: 1, SH: 3, AF: true, nG: true, Contiguous: false, PXN: true, UXN: true, POIndex: 0 },
  from: { table: 0, index: 0, level: 3 }, seq: 1,
});

describe('tlb-conflict', () => {
  it('flags a fill that conflicts with a cached entry', () => {
    const v = tlbConflict.check(k, { cpu: 0, effects: [{ kind: 'fill', cpu: 0, entry: entry(0x2000), conflicts: [entry(0x1000)], speculative: true }] });
    expect(v).toMatchObject({ invariant: 'tlb-conflict', rule: 'two TLB entries hit one VA in one context', witness: { cpu: 0, tag: 3 } });
  });

  it('flags a walk-cache fill of a table where the TLB holds a block for the range, and not one with nothing cached there', () => {
    const table: WalkEntry = { vaBase: 0x400000, level: 2, next: 0x4000_5000, asid: 3, perms: entry(0).perms, from: { table: 0, index: 2, level: 2 }, owner: 'pgd(mm 1)', seq: 2 };
    const blk: TlbEntry = { ...entry(0x4020_0000), level: 2, leaf: { ...entry(0x4020_0000).leaf, kind: 'block' } };
    const fill = (conflicts: (TlbEntry | WalkEntry)[]) => tlbConflict.check(k, { cpu: 0, effects: [{ kind: 'walk-fill', cpu: 0, entry: table, conflicts }] });
    expect(fill([blk])).toMatchObject({ invariant: 'tlb-conflict', rule: 'a walk cache and a TLB disagree on a table', witness: { cpu: 0, old: expect.stringContaining('block') } });
    expect(fill([])).toBeUndefined();
  });

  it('flags a lookup that hits two entries giving different pages, and not one that agrees', () => {
    const hit = (oa: number) => ({ pa: oa, entry: entry(oa) });
    const access = (outcomes: { pa: number }[]) => tlbConflict.check(k, { cpu: 1, effects: [{ kind: 'access', cpu: 1, va: 0x400000, access: 'load', el: 0, sym: 'user', outcomes }] });
    expect(access([hit(0x1000), hit(0x2000)])).toMatchObject({ rule: 'a lookup hits two TLB entries', witness: { cpu: 1 } });
    expect(access([hit(0x1000), hit(0x1000)])).toBeUndefined();
    expect(tlbConflict.check(k, { cpu: 0, effects: [] })).toBeUndefined();
  });
});
