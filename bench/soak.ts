// `npm run soak`: the reference mitigations against every invariant they
// claim with random seeds and many more runs than the CI gate. Prints the
// seed of any failure so that it can be replayed with FC_SEED=<seed>.
// SOAK_RUNS (default 20000) and SOAK_ROUNDS (default 5) set the effort.

import { REFERENCE } from '../model/mitigations/index.ts';
import { checkInvariant } from '../properties/check.ts';

const RUNS = Number(process.env.SOAK_RUNS ?? 20_000);
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 5);
let failures = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const { mitigation: m } of REFERENCE) {
    for (const kernel of [{}, { swPan: true }]) {
      if (m.options?.swPan === false && kernel.swPan) continue;
      for (const inv of m.claims) {
        const seed = Date.now() ^ (round << 16) ^ Math.floor(performance.now() * 1000);
        const out = checkInvariant(m, inv, { numRuns: RUNS, seed, kernel });
        const tag = `${m.id}${kernel.swPan ? '+sw-pan' : ''} ${inv} seed=${seed}`;
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
