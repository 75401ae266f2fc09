// SharedRuns answers each invariant's property from one simulation that checks
// them all (`firstOfEach`). That is sound only if the answer is exactly what a
// simulation checking the invariant alone gives: same violation at the same
// step with the same witness, same mitigation error, same interesting cases.
// Checked on mitigations that violate several invariants, so the runs go on
// past violations.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARCH_INVARIANTS } from '../../model/claims.ts';
import { byId } from '../../model/mitigations/index.ts';
import { SharedRuns } from '../check.ts';
import { workload } from '../workloads/workload.ts';
import { simulate } from './simulate.ts';

const IDS = ['arm64/nokpti', 'arm64/broken/kpti-tlbi-kernel-asid-only', 'arm64/kpti-ng-mmu-off', 'x86/nopti', 'x86/broken/pti-flush-one-user-noop'];

describe.each(IDS)('%s', (id) => {
  it('answers every invariant as a simulation of that invariant alone does', () => {
    const m = byId(id)!;
    const invariants = ARCH_INVARIANTS[m.arch];
    const shared = new SharedRuns(m, invariants);
    let violations = 0;
    for (const w of fc.sample(workload({ arch: m.arch, ncpus: 2, maxEvents: 40 }), { numRuns: 12, seed: 7 })) {
      for (const inv of invariants) {
        const alone = simulate(w, m, { invariants: [inv] });
        const got = shared.verdict(w, inv);
        expect(got.violation, `${inv} on ${JSON.stringify(w)}`).toEqual(alone.violation);
        expect(got.error).toEqual(alone.error);
        expect(got.stats).toEqual(alone.stats);
        if (alone.violation) violations++;
      }
    }
    // Otherwise this would compare runs that never go past a violation.
    expect(violations).toBeGreaterThan(0);
  });
});

it('refuses to serve another mitigation, kernel or invariant', () => {
  const kpti = byId('arm64/kpti')!, shared = new SharedRuns(kpti, ['el0-isolation']);
  expect(() => shared.checkServes(kpti, 'el0-isolation', undefined)).not.toThrow();
  expect(() => shared.checkServes(byId('arm64/nokpti')!, 'el0-isolation', undefined)).toThrow(/do not serve arm64\/nokpti/);
  expect(() => shared.checkServes(kpti, 'stale-tlb', undefined)).toThrow(/do not serve arm64\/kpti stale-tlb/);
  expect(() => shared.checkServes(kpti, 'el0-isolation', { swPan: true })).toThrow(/do not serve/);
});
