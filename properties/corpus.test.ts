// Replays every stored counterexample (fast-check's NoRegression practice):
// the broken mitigation still fails with the same invariant and its twin
// passes the same workload. Also: the corpus covers every broken mitigation
// and each invariant it is expected to violate.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BROKEN } from '../model/mitigations/index.ts';
import { load } from './runner/counterexample.ts';
import { replay } from './runner/replay.ts';

const DIR = 'counterexamples';
const files = (readdirSync(DIR, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).map((f) => join(DIR, f)).sort();

describe('counterexample corpus', () => {
  it.each(files.map((f) => [f]))('%s replays', async (file) => {
    const r = await replay(load(file));
    expect(r.result.error).toBeUndefined();
    expect(r.reproduced, `${r.counterexample.mitigation} no longer violates ${r.counterexample.invariant}`).toBe(true);
    expect(r.result.violation!.rule).toBe(r.counterexample.violation.rule);
    expect(r.twin, 'a broken counterexample names its twin').toBeDefined();
    expect(r.twin!.holds, `twin ${r.twin!.mitigation.id} fails: ${JSON.stringify(r.twin!.result.violation)}`).toBe(true);
  });

  it('holds a counterexample for every broken mitigation and expected invariant', () => {
    const stored = new Set(files.map((f) => { const c = load(f); return `${c.mitigation} ${c.invariant}`; }));
    for (const { mitigation: m } of BROKEN) {
      for (const inv of m.expect!.violates) expect(stored.has(`${m.id} ${inv}`), `no stored counterexample: ${m.id} ${inv}`).toBe(true);
    }
  });
});
