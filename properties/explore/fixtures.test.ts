// The good/bad fixture pairs, explored exhaustively: every bad fixture
// reaches a forbidden outcome, its good twin never does; the goods are all
// different scenarios; one pair is judged by tlb-conflict alone.
import { describe, expect, it } from 'vitest';
import { explore } from './explore.ts';
import { FIXTURES } from './fixtures.ts';
import type { Scenario } from './scenario.ts';
import { fingerprint } from './state.ts';

const summary = (name: string, r: ReturnType<typeof explore>): string =>
  `${name}: ${r.states} states, ${r.executions} final, ${r.ms.toFixed(1)} ms; outcomes ${JSON.stringify(Object.fromEntries(r.outcomes))}`;

describe.each(FIXTURES)('$name ($rule)', ({ good, bad, forbidden }) => {
  it(`${bad.name}: some execution reaches a forbidden outcome`, () => {
    const r = explore(bad);
    console.info(summary(bad.name, r));
    expect([...r.outcomes.keys()].filter(forbidden), JSON.stringify([...r.outcomes.keys()])).not.toEqual([]);
  });

  it(`${good.name}: no execution does`, () => {
    const r = explore(good);
    console.info(summary(good.name, r));
    expect([...r.outcomes.keys()].filter(forbidden), JSON.stringify([...r.witnesses])).toEqual([]);
    expect(r.executions).toBeGreaterThan(0);
  });
});

it('has at least ten pairs covering BBM, walk caches (VALE1, ASIDE1, VAAE1), TLBI scope and DSB completion', () => {
  expect(FIXTURES.length).toBeGreaterThanOrEqual(10);
  const names = FIXTURES.map((f) => f.name).join(' ');
  for (const topic of ['bbm', 'walk-cache-last-level', 'walk-cache-aside1', 'walk-cache-vaae1', 'tlbi-scope', 'dsb-tlbi-completion', 'dsb-domain']) expect(names).toContain(topic);
});

it('every fixture is a different scenario (initial state and ops)', () => {
  const text = (s: Scenario) => `${fingerprint(s.init())}\n${JSON.stringify(s.cpus, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
  const all = FIXTURES.flatMap((f) => [f.good, f.bad]);
  expect(new Set(all.map(text)).size).toBe(all.length);
});

it('walk-cache-vs-tlb is judged by tlb-conflict alone: the bad twin never trips bbm', () => {
  const f = FIXTURES.find((x) => x.name === 'walk-cache-vs-tlb')!;
  const outcomes = [...explore(f.bad).outcomes.keys()];
  expect(outcomes.filter((o) => o.startsWith('violation: bbm'))).toEqual([]);
  expect(outcomes).toContain('violation: tlb-conflict (a walk cache and a TLB disagree on a table)');
});
