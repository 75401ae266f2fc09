// Liveness for the bbm invariant (reach.ts `liveTables`): a table is live
// when a walk can reach it from a TTBR, from a TTBR write not yet
// synchronised, or from a walk-cache entry. Each case beside its good twin.
import { describe, expect, it } from 'vitest';
import { INVALID } from '../../model/arch/arm64/descriptor.ts';
import type { Effect, Machine } from '../../model/arch/arm64/machine.ts';
import { dsb, msr, str, tlbi } from '../../model/arch/arm64/ops.ts';
import { ttbr } from '../../model/arch/arm64/sysreg.ts';
import { page, World } from '../explore/scenario.ts';
import { X } from '../explore/worlds.ts';
import { bbmViolation } from './bbm.ts';

type Store = Extract<Effect, { kind: 'store' }>;
/** Run `ops` on CPU 0 and judge the last store. */
function lastStore(m: Machine, ops: Parameters<Machine['exec']>[1][]): ReturnType<typeof bbmViolation> {
  let s: Store | undefined;
  for (const op of ops) { m.effects = []; m.exec(m.cpus[0], op); s = m.effects.find((e): e is Store => e.kind === 'store') ?? s; }
  return bbmViolation(m, s!);
}

describe('bbm liveness', () => {
  /** X maps A; CPU 0 caches the walk (TLB entry dropped); the L2 entry is then cleared, leaving the L3 table reachable only through the walk cache. */
  const unlinked = (retire: boolean) => {
    const w = new World();
    const a = w.frame('A'), b = w.frame('B');
    w.set(X, page(a));
    const l2 = w.entry(X, 2), l3 = w.entry(X);
    const m = w.machine([X], [ttbr(w.root, 1)]);
    m.cpus[0].tlb.invalidate(() => true, Infinity);
    const clear = [str(l2.table, l2.index, 2, INVALID), dsb('ish'), ...(retire ? [tlbi('VAE1', false, { va: X, asid: 1 }), dsb('nsh')] : [])];
    return lastStore(m, [...clear, str(l3.table, l3.index, 3, page(b))]);
  };

  it('a table reachable only through a walk-cache entry is live', () => {
    expect(unlinked(false)).toMatchObject({ invariant: 'bbm', witness: { reason: 'output address change', live: expect.stringContaining('live root') } });
  });

  it('once TLBI VAE1 has retired the walk-cache entry, it is not', () => {
    expect(unlinked(true)).toBeUndefined();
  });

  /** X maps A in tables B that no TTBR points at; CPU 0 has (or has not) written TTBR0 := B without an ISB. */
  const pendingRoot = (pending: boolean) => {
    const w = new World();
    const rootB = w.newRoot('pgd B'), a = w.frame('A'), b = w.frame('B');
    w.set(X, page(a), 3, rootB);
    const p = w.entry(X, 3, rootB);
    const m = w.machine([], [ttbr(w.root, 1)]);
    return lastStore(m, [...(pending ? [msr('TTBR0_EL1', ttbr(rootB, 2))] : []), str(p.table, p.index, 3, page(b))]);
  };

  it('a table reachable from a TTBR write not yet synchronised is live', () => {
    expect(pendingRoot(true)).toMatchObject({ invariant: 'bbm', witness: { reason: 'output address change' } });
  });

  it('without that write, the same tables are not live', () => {
    expect(pendingRoot(false)).toBeUndefined();
  });
});
