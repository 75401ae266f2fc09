// `npm run soak`: the reference mitigations against every invariant they
// claim with random seeds and many more runs than the CI gate. Prints the
// seed of any failure so that it can be replayed with FC_SEED=<seed>.
// SOAK_RUNS (default 20000) and SOAK_ROUNDS (default 5) set the effort;
// SOAK_ARCH (arm64 or x86) limits it to one architecture.

import { REFERENCE } from '../model/mitigations/index.ts';
import { SharedRuns, checkInvariant } from '../properties/check.ts';
import type { Mitigation, OptionOverrides } from '../model/mitigations/types.ts';

/** Kernel configurations worth soaking: arm64 with and without SW PAN; x86 with and without a KASLR offset (the one in the 4.18 ptdump sample). */
function variants(m: Mitigation): OptionOverrides[] {
  if (m.arch === 'x86') return [{}, { kaslr: 0x1f00_0000, dynAsids: 2 }, { invpcid: false, dynAsids: 3 }];
  return m.options?.swPan === false ? [{}] : [{}, { swPan: true }];
}

const RUNS = Number(process.env.SOAK_RUNS ?? 20_000);
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 5);
let failures = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const { mitigation: m } of REFERENCE.filter((b) => !process.env.SOAK_ARCH || b.mitigation.arch === process.env.SOAK_ARCH)) {
    for (const kernel of variants(m)) {
      // One random seed per configuration: its invariants draw the same workloads and share their simulations.
      const seed = Date.now() ^ (round << 16) ^ Math.floor(performance.now() * 1000);
      const shared = new SharedRuns(m, m.claims, kernel);
      for (const inv of m.claims) {
        const out = checkInvariant(m, inv, { numRuns: RUNS, seed, kernel, shared });
        const tag = `${m.id}${Object.keys(kernel).length ? JSON.stringify(kernel) : ''} ${inv} seed=${seed}`;
        if (out.failure) {
          failures++;
          console.log(`FAIL ${tag}: ${JSON.stringify(out.failure.result.violation ?? out.failure.result.error)}\n  workload: ${JSON.stringify(out.failure.workload)}`);
        } else console.log(`ok   ${tag} (${out.runs} runs)`);
      }
    }
  }
}
console.log(`${failures} failures`);
process.exitCode = failures ? 1 : 0;
