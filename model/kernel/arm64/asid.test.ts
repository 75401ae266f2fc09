// The ASID allocator against arch/arm64/mm/context.c (4.16): pairs,
// generations, rollover with flush_context and reserved ASIDs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsidAllocator } from './asid.ts';

describe('AsidAllocator (context.c)', () => {
  it('allocates even (kernel) ASIDs in pairs from index 1, tagged with the generation', () => {
    const a = new AsidAllocator(3, true, 2);
    expect([a.ASID_FIRST_VERSION, a.NUM_USER_ASIDS]).toEqual([8, 4]);
    expect([a.newContext(0), a.newContext(0), a.newContext(0)]).toEqual([8 | 2, 8 | 4, 8 | 6]);
    expect(a.asid2idx(8 | 5)).toBe(2);
    expect(a.idx2asid(3)).toBe(6);
  });

  it('without pairs, counts ASIDs one by one', () => {
    const a = new AsidAllocator(3, false, 2);
    expect(a.NUM_USER_ASIDS).toBe(8);
    expect([a.newContext(0), a.newContext(0)]).toEqual([8 | 1, 8 | 2]);
  });

  it('rolls over when out of ASIDs: bumps the generation, keeps the active ASIDs reserved, and queues a flush on every CPU', () => {
    const a = new AsidAllocator(3, true, 2);
    const ids = [a.newContext(0), a.newContext(0), a.newContext(0)];
    a.active[0] = ids[0]; a.active[1] = ids[2];
    const next = a.newContext(0);
    expect(a.generation).toBe(16);
    expect(a.rollovers).toBe(1);
    expect(next).toBe(16 | 4); // index 1 and 3 are reserved by the CPUs' active ASIDs
    expect([...a.tlbFlushPending].sort()).toEqual([0, 1]);
    expect(a.reserved).toEqual([ids[0], ids[2]]);
    expect(a.active).toEqual([0, 0]);
    // The mm still running on CPU 0 keeps its ASID in the new generation (check_update_reserved_asid).
    expect(a.newContext(ids[0])).toBe(16 | 2);
    expect(a.reserved[0]).toBe(16 | 2);
  });

  it('reuses an old-generation ASID for its mm when it is still free', () => {
    const a = new AsidAllocator(3, true, 2);
    a.newContext(0); a.newContext(0);
    const third = a.newContext(0);
    expect(a.newContext(0)).toBe(16 | 2); // rollover; nothing active, so index 1 is free again
    expect(a.isCurrent(third)).toBe(false);
    expect(a.newContext(third)).toBe(16 | 6); // "We had a valid ASID in a previous life, so try to re-use it"
    expect(a.newContext(8 | 2)).toBe(16 | 4); // taken in this generation: a fresh one instead
  });

  it('never gives two mms of one generation the same ASID (property)', () => {
    // Ops: allocate for a fresh mm, or re-validate mm i on CPU c (check_and_switch_context's slow path).
    const op = fc.oneof(fc.constant({ fresh: true as const }), fc.record({ mm: fc.nat({ max: 9 }), cpu: fc.nat({ max: 1 }) }));
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const a = new AsidAllocator(3, true, 2);
      const ids: number[] = [];
      for (const o of ops) {
        if ('fresh' in o) { ids.push(a.newContext(0)); continue; }
        if (!ids.length) continue;
        const i = o.mm % ids.length;
        if (!a.isCurrent(ids[i])) ids[i] = a.newContext(ids[i]);
        a.tlbFlushPending.delete(o.cpu);
        a.active[o.cpu] = ids[i];
        // Every mm running on a CPU has a current-generation ASID no other mm of that generation shares.
        const live = a.active.filter((x) => x !== 0);
        const current = ids.filter((x) => a.isCurrent(x));
        for (const x of live) expect(current.filter((y) => y % 8 === x % 8 && y !== x)).toEqual([]);
        expect(new Set(current.map((x) => x % 8)).size).toBe(new Set(current).size);
      }
    }));
  });
});
