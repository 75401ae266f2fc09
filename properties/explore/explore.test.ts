// The explorer's hardware events (hardware.ts) and its search: fills of
// every named VA on every CPU, eviction of every TLB and walk-cache entry,
// and events after the last op.
import { describe, expect, it } from 'vitest';
import { isb, msr } from '../../model/arch/arm64/ops.ts';
import { ttbr } from '../../model/arch/arm64/sysreg.ts';
import { explore } from './explore.ts';
import { FIXTURES } from './fixtures.ts';
import { hardwareEvents } from './hardware.ts';
import { page, World } from './scenario.ts';
import { block, scenario, X } from './worlds.ts';

describe('hardwareEvents', () => {
  it('offers a fill of each VA on each CPU and the eviction of each cached entry, TLB or walk cache', () => {
    const w = new World();
    w.set(X, page(w.frame('A')));
    w.set(X + 0x1000, page(w.frame('B')));
    const m = w.machine([X]);
    const texts = [...hardwareEvents(m, [X, X + 0x1000])].map((e) => e.text);
    // X is cached (an identical refill still counts: it is newer); X + 4 KiB is not.
    for (const c of [0, 1]) expect(texts.filter((t) => t.startsWith(`cpu${c} fill`))).toEqual([`cpu${c} fill 0x400000`, `cpu${c} fill 0x401000`]);
    for (const c of [0, 1]) expect(texts.filter((t) => t.startsWith(`cpu${c} evict`))).toHaveLength(4); // 1 TLB + 3 walk-cache entries
    const walkEvictions = [...hardwareEvents(m, [])].map((e) => e.machine.cpus[0].walkCache.size).filter((n) => n === 2);
    expect(walkEvictions).toHaveLength(3);
  });

  it('offers nothing on an idle machine with empty caches', () => {
    expect([...hardwareEvents(new World().machine([]), [])]).toEqual([]);
  });
});

describe('explore', () => {
  /** One CPU on tables B (X in a cached block) switches to tables A (X in a page) under the same ASID and stops. */
  const reuse = (asid: number) => scenario(`switch asid ${asid}`, 'no op after the ISB', (w) => {
    w.set(X, page(w.frame('A')));
    const rootB = w.newRoot('pgd B');
    w.set(X, block(0x4020_0000), 2, rootB);
    return { cpus: [[msr('TTBR0_EL1', ttbr(w.root, asid)), isb()]], ttbr0: [ttbr(rootB, 1)], vas: [X], budget: 3 };
  });

  it('tries hardware events after the last op: two evictions and a fill after the ISB reach the conflict', () => {
    const r = explore(reuse(1));
    expect([...r.outcomes.keys()]).toContain('violation: tlb-conflict (a walk cache and a TLB disagree on a table)');
    expect(r.witnesses.get('violation: tlb-conflict (a walk cache and a TLB disagree on a table)')!.slice(-1)[0]).toMatch(/\[hw\] cpu0 fill/);
  });

  it('with a new ASID the same search finds no conflict', () => {
    expect([...explore(reuse(2)).outcomes.keys()].filter((o) => o.startsWith('violation'))).toEqual([]);
  });
});

// A walk that starts from a cached walk-cache entry after a TLBI covering it
// was issued must not outlive that TLBI (R_LXHLD; Machine.doomedSeq): with two
// hardware events the explorer tries a fill between TLBI VAE1IS and its DSB,
// through the stale L2 walk-cache entry, and every good table change still holds.
it.each(['walk-cache-last-level', 'walk-cache-aside1', 'walk-cache-vaae1'])('%s: the good twin holds with two hardware events', (name) => {
  const f = FIXTURES.find((x) => x.name === name)!;
  const r = explore({ ...f.good, budget: 2 });
  expect([...r.outcomes.keys()].filter(f.forbidden), JSON.stringify([...r.witnesses])).toEqual([]);
});
