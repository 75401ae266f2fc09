// A trampoline exit that switches TTBR1 back to `tramp_pg_dir` but keeps the
// kernel ASID: `tramp_unmap_kernel` without `orr tmp, tmp, #USER_ASID_FLAG`.
// This undoes what "arm64: mm: Allocate ASIDs in pairs" (KPTI series patch
// 7/18) relies on: at EL0, the kernel's own nG entries still match.

import { mrs, msr, type Hook } from '../../../arch/arm64/ops.ts';
import { SWAPPER_DIR_SIZE } from '../../../kernel/arm64/image.ts';
import { kernelExit0, kptiHooks, mitigation as kpti, RESERVED_TTBR0_SIZE, trampExitNative } from '../kpti.ts';
import type { Arm64Ctx, Arm64Mitigation } from '../types.ts';

/** `tramp_unmap_kernel` that forgets the user ASID. */
function* trampUnmapKernel(c: Arm64Ctx): Hook {
  let tmp = yield* mrs('TTBR1_EL1');
  tmp += BigInt(SWAPPER_DIR_SIZE + RESERVED_TTBR0_SIZE(c));
  // BUG: missing `orr tmp, tmp, #USER_ASID_FLAG`.
  yield msr('TTBR1_EL1', tmp);
}

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/broken/kpti-exit-kernel-asid',
  title: 'KPTI trampoline exit that returns to EL0 with the kernel ASID',
  source: 'drops the USER_ASID_FLAG of tramp_unmap_kernel (arch/arm64/kernel/entry.S), which "arm64: mm: Allocate ASIDs in pairs" introduced',
  expect: { violates: ['el0-isolation'], twin: 'arm64/kpti' },
  hooks: {
    ...kptiHooks,
    *el0Exit(c) { yield* kernelExit0(c); yield* trampExitNative(c, trampUnmapKernel); },
  },
};
export default mitigation;
