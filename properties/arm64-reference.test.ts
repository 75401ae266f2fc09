// The reference arm64 mitigations against every invariant they claim, over
// generated workloads; and the baseline without KPTI shown to violate EL0
// isolation. Each property reports how often its interesting cases occurred
// and fails if one never did.

import { describe, expect, it } from 'vitest';
import type { InvariantId } from '../model/claims.ts';
import type { Stats } from '../model/kernel/kernel.ts';
import { mitigation as kpti } from '../model/mitigations/arm64/kpti.ts';
import { mitigation as nokpti } from '../model/mitigations/arm64/nokpti.ts';
import { mitigation as ngMmuOff } from '../model/mitigations/arm64/kpti-ng-mmu-off.ts';
import { mitigation as ngMmuOn } from '../model/mitigations/arm64/kpti-ng-mmu-on.ts';
import type { Arm64Mitigation, Arm64Options } from '../model/mitigations/arm64/types.ts';
import { formatCounterexample } from '../cli/report.ts';
import { SharedRuns, checkInvariant } from './check.ts';
import { build } from './runner/counterexample.ts';

const RUNS = 200;

/** The late-boot nG rewrites run ~1000 more ops per boot, so fewer workloads. */
const NG_RUNS = 150;

/** Interesting cases every config must meet; only the nG rewrites have a rewrite to interleave. */
const ALL: (keyof Stats)[] = ['el0AccessAfterMunmap', 'rollover', 'irqAtEl0', 'specFillKernelVa'];
const NG: (keyof Stats)[] = [...ALL, 'ngRewriteInterleaved'];

const CONFIGS: { name: string; m: Arm64Mitigation; kernel: Partial<Arm64Options>; runs: number; cases: (keyof Stats)[] }[] = [
  { name: 'kpti', m: kpti, kernel: {}, runs: RUNS, cases: ALL },
  { name: 'kpti+sw-pan', m: kpti, kernel: { swPan: true }, runs: RUNS, cases: ALL },
  { name: 'nokpti', m: nokpti, kernel: {}, runs: RUNS, cases: ALL },
  { name: 'kpti-ng-mmu-off', m: ngMmuOff, kernel: {}, runs: NG_RUNS, cases: NG },
  { name: 'kpti-ng-mmu-on', m: ngMmuOn, kernel: {}, runs: NG_RUNS, cases: NG },
];

function explain(m: Arm64Mitigation, inv: InvariantId, out: ReturnType<typeof checkInvariant>): string {
  const f = out.failure;
  if (!f) return '';
  if (f.result.error) return `${m.id}: mitigation error: ${f.result.error.message}`;
  return formatCounterexample(build({ arch: m.arch, mitigation: m.id, invariant: inv, options: f.result.options, seed: f.seed, path: f.path, workload: f.workload, violation: f.result.violation!, trace: f.result.trace }));
}

describe.each(CONFIGS)('$name', ({ name, m, kernel, runs, cases }) => {
  const shared = new SharedRuns(m, m.claims, kernel);
  it.each(m.claims.map((inv) => [inv]))(`holds %s`, (inv) => {
    const out = checkInvariant(m, inv, { numRuns: runs, kernel, shared });
    console.info(`${name} ${inv}: ${out.runs} runs; interesting cases ${JSON.stringify(out.stats)}`);
    expect(out.failure, explain(m, inv, out)).toBeUndefined();
    for (const kase of cases) expect(out.stats[kase], `interesting case ${kase} never occurred`).toBeGreaterThan(0);
  });
});

describe('nokpti', () => {
  it('violates EL0 isolation, which it does not claim', () => {
    expect(nokpti.claims).not.toContain('el0-isolation');
    const out = checkInvariant(nokpti, 'el0-isolation', { numRuns: RUNS });
    expect(out.failure?.result.violation?.invariant).toBe('el0-isolation');
    expect(out.failure?.result.violation?.witness.via).toMatch(/TTBR1_EL1 \(swapper_pg_dir\)/);
  });
});

describe('kpti-ng-mmu-off', () => {
  it('violates W^X on its ID map, which it does not claim (the RWX section Ard Biesheuvel\'s 2022 rewrite removed)', () => {
    expect(ngMmuOff.claims).not.toContain('wx');
    const out = checkInvariant(ngMmuOff, 'wx', { numRuns: 5 });
    expect(out.failure?.result.violation).toMatchObject({ invariant: 'wx', witness: { root: 'idmap_pg_dir' } });
    expect(checkInvariant(ngMmuOn, 'wx', { numRuns: 5 }).failure).toBeUndefined();
  });
});
