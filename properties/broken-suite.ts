// Every broken mitigation of an architecture is caught violating each
// invariant it is expected to violate, with a shrunk counterexample; its
// correct twin holds every invariant it claims on that same workload.
// (One test file per architecture, so the two halves run in parallel.)

import { describe, expect, it } from 'vitest';
import { DEFAULT_RUNS } from '../cli/review.ts';
import { BROKEN, byId } from '../model/mitigations/index.ts';
import { SharedRuns, checkInvariant } from './check.ts';
import { simulate } from './runner/simulate.ts';

/**
 * Budget per broken mitigation and invariant; each stops at its first
 * failure, so the budget costs time only when a violation is missed. The
 * slowest to find (x86/broken/ds-cea-local-flush, a cross-CPU schedule)
 * needs a median of about 3000 runs over 20 seeds (`npm run bench`). It is
 * also what `isocheck review <module>` runs by default.
 */
const RUNS = DEFAULT_RUNS.named;

export function brokenSuite(arch: 'arm64' | 'x86'): void {
  // The expected invariants of one mitigation share their simulations (SharedRuns).
  const cases = BROKEN.filter((b) => b.mitigation.arch === arch).flatMap(({ mitigation: m }) => {
    const shared = new SharedRuns(m, m.expect!.violates);
    return m.expect!.violates.map((inv) => ({ id: m.id, m, inv, shared }));
  });

  describe.each(cases)('$id', ({ m, inv, shared }) => {
    it(`is caught violating ${inv}, and its twin passes the counterexample`, () => {
      const out = checkInvariant(m, inv, { numRuns: RUNS, shared });
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
}
