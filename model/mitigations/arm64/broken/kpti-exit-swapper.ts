// A trampoline exit that never calls `tramp_unmap_kernel`: EL0 runs with
// `swapper_pg_dir` in TTBR1, so the whole kernel is reachable by a walk,
// as if "arm64: entry: Hook up entry trampoline to exception vectors"
// (KPTI series patch 13/18) had wired up only the entry half.

import { kernelExit0, kptiHooks, mitigation as kpti, trampExitNative } from '../kpti.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/broken/kpti-exit-swapper',
  title: 'KPTI trampoline exit that returns to EL0 with swapper_pg_dir in TTBR1',
  source: 'drops tramp_unmap_kernel from tramp_exit (arch/arm64/kernel/entry.S, KPTI series patch 13/18)',
  expect: { violates: ['el0-isolation'], twin: 'arm64/kpti' },
  hooks: {
    ...kptiHooks,
    // BUG: tramp_exit without tramp_unmap_kernel.
    *el0Exit(c) { yield* kernelExit0(c); yield* trampExitNative(c, function* () {}); },
  },
};
export default mitigation;
