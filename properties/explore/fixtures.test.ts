// The good/bad fixture pairs, explored exhaustively: every bad fixture
// reaches a forbidden outcome, its good twin never does.
import { describe, expect, it } from 'vitest';
import { explore } from './explore.ts';
import { FIXTURES } from './fixtures.ts';

describe.each(FIXTURES)('$name ($rule)', ({ good, bad, forbidden }) => {
  it(`${bad.name}: some execution reaches a forbidden outcome`, () => {
    const r = explore(bad);
    const reached = [...r.outcomes.keys()].filter(forbidden);
    console.info(`${bad.name}: ${r.executions} executions in ${r.ms.toFixed(1)} ms; outcomes ${JSON.stringify(Object.fromEntries(r.outcomes))}`);
    expect(reached, JSON.stringify([...r.outcomes.keys()])).not.toEqual([]);
  });

  it(`${good.name}: no execution does`, () => {
    const r = explore(good);
    console.info(`${good.name}: ${r.executions} executions in ${r.ms.toFixed(1)} ms; outcomes ${JSON.stringify(Object.fromEntries(r.outcomes))}`);
    expect([...r.outcomes.keys()].filter(forbidden), JSON.stringify([...r.witnesses])).toEqual([]);
    expect(r.executions).toBeGreaterThan(0);
  });
});

it('has at least ten pairs covering BBM, walk caches, TLBI scope and DSB completion', () => {
  expect(FIXTURES.length).toBeGreaterThanOrEqual(10);
  const names = FIXTURES.map((f) => f.name).join(' ');
  for (const topic of ['bbm', 'walk-cache', 'tlbi-scope', 'dsb']) expect(names).toContain(topic);
});
