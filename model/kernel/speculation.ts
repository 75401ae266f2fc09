// Which VA a speculative walk targets: any translation reachable from the
// live roots may be cached at any time (Arm ARM R_SQBCS; Intel SDM
// §4.10.2.2). The workload's `n` picks either an interesting VA from the
// kernel's catalogue (even numbers: user slots, kernel symbols, aliases,
// the trampoline or entry area) or the n-th leaf reachable from this CPU's
// roots right now (odd numbers), so every reachable translation can be chosen.

import type { VA } from '../arch/va.ts';

export function speculativeTarget(catalogue: readonly VA[], reachable: () => readonly { readonly vaBase: VA }[], n: number): VA | undefined {
  const half = Math.floor(n / 2);
  if (n % 2 === 0) return catalogue[half % catalogue.length];
  const leaves = reachable();
  return leaves.length ? leaves[half % leaves.length].vaBase : undefined;
}
