// Which VA a speculative walk targets. Arm ARM R_SQBCS: any translation
// reachable from the live TTBRs may be cached at any time. The workload's
// `va` number picks either an interesting VA from the kernel's catalogue
// (even numbers: user slots, kernel symbols, linear-map aliases, the
// trampoline) or the n-th leaf reachable from this CPU's TTBRs right now
// (odd numbers), so every reachable translation can be chosen.

import type { VA } from '../../arch/va.ts';
import type { Arm64Kernel } from './kernel.ts';
import { reachable } from '../../arch/arm64/reach.ts';

export function speculativeTarget(k: Arm64Kernel, cpu: number, n: number): VA | undefined {
  const half = Math.floor(n / 2);
  if (n % 2 === 0) return k.vaCatalogue[half % k.vaCatalogue.length];
  const p = k.machine.cpus[cpu].params, m = k.machine;
  const leaves = [...reachable(m, p.ttbr0.BADDR, false), ...reachable(m, p.ttbr1.BADDR, true)];
  return leaves.length ? leaves[half % leaves.length].vaBase : undefined;
}
