// Every invariant has at least one broken mitigation proving it can fail,
// and each broken mitigation names a correct twin. (broken-arm64.test.ts and
// broken-x86.test.ts show each is caught.)

import { describe, expect, it } from 'vitest';
import { INVARIANTS } from '../model/claims.ts';
import { BROKEN, byId } from '../model/mitigations/index.ts';

describe('the broken set', () => {
  it('has a broken mitigation for every invariant', () => {
    const covered = new Set(BROKEN.flatMap((b) => b.mitigation.expect!.violates));
    for (const inv of INVARIANTS) expect(covered.has(inv), `no broken mitigation violates ${inv}`).toBe(true);
  });

  it('names a bundled twin for each broken mitigation', () => {
    for (const { mitigation: m } of BROKEN) expect(byId(m.expect!.twin)?.expect).toBeUndefined();
  });
});
