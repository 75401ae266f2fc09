// Every broken mitigation is caught violating each invariant it is expected
// to violate, with a shrunk counterexample; its correct twin holds every
// invariant it claims on that same workload. And every invariant has at
// least one broken mitigation proving it can fail.

import { describe, expect, it } from 'vitest';
import { INVARIANTS } from '../model/claims.ts';
import { BROKEN, byId } from '../model/mitigations/index.ts';
import { checkInvariant } from './check.ts';
import { simulate } from './runner/simulate.ts';

/**
 * Budget per broken mitigation and invariant; each stops at its first
 * failure, so the budget costs time only when a violation is missed. The
 * slowest to find (x86/broken/ds-cea-local-flush, a cross-CPU schedule)
 * needs a median of about 3000 runs over 20 seeds (`npm run bench`).
 */
const RUNS = 12_000;

const cases = BROKEN.flatMap(({ mitigation: m }) => m.expect!.violates.map((inv) => ({ id: m.id, m, inv })));

describe.each(cases)('$id', ({ m, inv }) => {
  it(`is caught violating ${inv}, and its twin passes the counterexample`, () => {
    const out = checkInvariant(m, inv, { numRuns: RUNS });
    const f = out.failure;
    expect(f, `${m.id} not caught in ${RUNS} runs`).toBeDefined();
    expect(f!.result.error).toBeUndefined();
    expect(f!.result.violation!.invariant).toBe(inv);
    console.info(`${m.id} ${inv}: caught after ${out.runs} runs, shrunk to ${f!.workload.length} events`);
    const twin = byId(m.expect!.twin)!;
    const t = simulate(f!.workload, twin, { invariants: twin.claims, kernel: f!.result.options });
    expect(t.violation, JSON.stringify(t.violation)).toBeUndefined();
    expect(t.error).toBeUndefined();
  });
});

describe('the broken set', () => {
  it('has a broken mitigation for every invariant', () => {
    const covered = new Set(BROKEN.flatMap((b) => b.mitigation.expect!.violates));
    for (const inv of INVARIANTS) expect(covered.has(inv), `no broken mitigation violates ${inv}`).toBe(true);
  });

  it('names a bundled twin for each broken mitigation', () => {
    for (const { mitigation: m } of BROKEN) expect(byId(m.expect!.twin)?.expect).toBeUndefined();
  });
});
