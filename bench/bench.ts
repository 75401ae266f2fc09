// `npm run bench`: model throughput in primitive ops per second per
// architecture; the x86 cost model's predicted syscall rates beside the
// KAISER seed's measured ones; and for each broken mitigation the median
// runs and milliseconds to the first failure over 20 seeds, with the shrunk
// counterexample length. Figures are measured here, never asserted by tests.

import fc from 'fast-check';
import { mitigation as kpti } from '../model/mitigations/arm64/kpti.ts';
import { mitigation as ptiPcid } from '../model/mitigations/x86/pti-pcid.ts';
import { mitigation as ptiPcid415 } from '../model/mitigations/x86/pti-pcid-4.15.ts';
import { mitigation as ptiNopcid } from '../model/mitigations/x86/pti-nopcid.ts';
import { mitigation as ptiNopcid415 } from '../model/mitigations/x86/pti-nopcid-4.15.ts';
import { mitigation as nopti } from '../model/mitigations/x86/nopti.ts';
import { mitigation as ptiNopcidGlobalText } from '../model/mitigations/x86/pti-nopcid-global-text.ts';
import { formatCost, measureWithEstimate } from '../properties/cost.ts';
import { CLOCK_GHZ, SEED } from '../properties/cost-table.ts';
import { BROKEN } from '../model/mitigations/index.ts';
import { checkInvariant } from '../properties/check.ts';
import { simulate } from '../properties/runner/simulate.ts';
import { workload } from '../properties/workloads/workload.ts';
import { explore } from '../properties/explore/explore.ts';
import { FIXTURES } from '../properties/explore/fixtures.ts';

const SEEDS = Number(process.env.BENCH_SEEDS ?? 20);
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

function throughput(): void {
  for (const m of [kpti, ptiPcid]) {
    const loads = fc.sample(workload({ arch: m.arch, ncpus: 2, maxEvents: 40 }), { numRuns: 500, seed: 1 });
    for (const [label, invariants] of [['all claimed invariants', m.claims], ['no invariants', []]] as const) {
      for (const w of loads) simulate(w, m, { invariants }); // warm-up: a cold pass mostly measures the JIT
      let ops = 0;
      const t = performance.now();
      for (const w of loads) ops += simulate(w, m, { invariants }).ops;
      const s = (performance.now() - t) / 1000;
      console.log(`throughput (${m.id}, ${label}): ${Math.round(ops / s).toLocaleString('en')} ops/s (${ops} ops in ${s.toFixed(2)} s, 500 workloads)`);
    }
  }
}

/**
 * Each x86 reference mitigation beside the seed's lseek1 figure for the same
 * configuration (x86-cost.md §0): nothing global as in the cover letter, or
 * global entries for the user-mapped areas ("ge", Hansen 2017-11-01, which
 * also made the process stack global). 4.17's global kernel text has none.
 */
const SEED_ROWS = [
  [nopti, 'no kaiser', SEED.base],
  [ptiPcid415, 'kaiser+pcid', SEED.pcid],
  [ptiPcid, 'kaiser+pcid+ge', SEED.pcidGlobal],
  [ptiNopcid415, 'kaiser+nopcid', SEED.nopcid],
  [ptiNopcid, 'kaiser+nopcid+ge', SEED.nopcidGlobal],
  [ptiNopcidGlobalText, undefined, undefined],
] as const;

function costs(): void {
  console.log(`
x86 syscall cost model (properties/cost-table.ts; ${CLOCK_GHZ} GHz; baseline 1/${SEED.base / 1e6}M s) against the KAISER v4 seed (lseeks/s):`);
  const w = 28;
  for (const [m, label, seed] of SEED_ROWS) {
    const c = measureWithEstimate(m), e = c.estimate!;
    const model = `model ${e.relative.toFixed(3)} x nopti (${(e.rate / 1e6).toFixed(2)}M/s)`;
    if (seed === undefined) { console.log(`  ${m.id.padEnd(w)}${model}   no seed figure (4.17 pti=auto)`); continue; }
    const ratio = seed / SEED.base, off = e.relative / ratio - 1;
    const close = seed === SEED.base ? 'the base, 1 by construction' : Math.abs(off) < 0.005 ? 'within 0.5%' : `model ${Math.abs(off * 100).toFixed(0)}% ${off > 0 ? 'faster' : 'slower'}`;
    console.log(`  ${m.id.padEnd(w)}${model}   seed ${label} ${(seed / 1e6).toFixed(1)}M/s = ${ratio.toFixed(3)} x   model/seed ${(e.relative / ratio).toFixed(2)}: ${close}`);
    console.log(`  ${''.padEnd(w)}per syscall: ${formatCost(c.perSyscall, c.shown)}; ${e.cycles.toFixed(0)} cycles vs ${e.baselineCycles.toFixed(0)} without PTI${e.uncosted.length ? `; not costed: ${e.uncosted.join(', ')}` : ''}`);
  }
}

function timeToCounterexample(): void {
  console.log(`\ntime to first counterexample, median over ${SEEDS} seeds (runs until failure, ms, shrunk events):`);
  console.log(`${'mitigation'.padEnd(44)}${'invariant'.padEnd(17)}${'runs'.padStart(6)}${'ms'.padStart(8)}${'events'.padStart(8)}  caught`);
  for (const { mitigation: m } of BROKEN) {
    for (const inv of m.expect!.violates) {
      const runs: number[] = [], ms: number[] = [], len: number[] = [];
      let caught = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const t = performance.now();
        const out = checkInvariant(m, inv, { numRuns: 20_000, seed });
        ms.push(performance.now() - t);
        runs.push(out.runs);
        if (out.failure) { caught++; len.push(out.failure.workload.length); }
      }
      console.log(`${m.id.padEnd(44)}${inv.padEnd(17)}${String(median(runs)).padStart(6)}${median(ms).toFixed(0).padStart(8)}${String(median(len)).padStart(8)}  ${caught}/${SEEDS}`);
    }
  }
}

function scenarios(): void {
  console.log('\nexhaustive exploration of the fixture scenarios (median of 5 runs each):');
  for (const f of FIXTURES) {
    for (const s of [f.good, f.bad]) {
      const runs = Array.from({ length: 5 }, () => explore(s));
      console.log(`  ${s.name.padEnd(40)}${String(runs[0].states).padStart(5)} states ${String(runs[0].executions).padStart(4)} final ${median(runs.map((r) => r.ms)).toFixed(2).padStart(8)} ms`);
    }
  }
}

// BENCH_PARTS=throughput,costs,scenarios,counterexamples runs only those parts (default: all).
const PARTS = { throughput, costs, scenarios, counterexamples: timeToCounterexample };
const only = process.env.BENCH_PARTS?.split(',');
for (const [name, part] of Object.entries(PARTS)) if (!only || only.includes(name)) part();
