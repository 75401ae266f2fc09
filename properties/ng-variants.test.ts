// Changes to the nG rewrite that look broken but hold every invariant under
// the Arm ARM rules as modelled (model/mitigations/arm64/safe/): each is
// kept as a good fixture, with the reason in its module.

import { describe, expect, it } from 'vitest';
import { SAFE } from '../model/mitigations/index.ts';
import { SharedRuns, checkInvariant } from './check.ts';

describe.each(SAFE.map((b) => ({ id: b.mitigation.id, m: b.mitigation })))('$id', ({ m }) => {
  const shared = new SharedRuns(m, m.claims);
  it.each(m.claims.map((inv) => [inv]))('holds %s', (inv) => {
    const out = checkInvariant(m, inv, { numRuns: 60, shared });
    expect(out.failure?.result.violation ?? out.failure?.result.error).toBeUndefined();
    // Otherwise the change would never have been tested where it matters: inside the rewrite.
    expect(out.stats.ngRewriteInterleaved, 'no hardware event or other-CPU step landed inside the rewrite').toBeGreaterThan(0);
  });
});
