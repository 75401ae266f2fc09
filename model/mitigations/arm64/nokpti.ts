// Linux 4.16 booted with `kpti=off` (arm64_kernel_unmapped_at_el0() false,
// as on CPUs with ID_AA64PFR0_EL1.CSV3): kernel mappings are global, the
// full kernel stays mapped at EL0, exceptions go straight to `vectors`, and
// `__tlbi_user` is a no-op. ASIDs are still paired and in TTBR1, because
// that part of the series is unconditional. Expected to violate EL0 isolation,
// which it does not claim.

import { access, eret, type Hook } from '../../arch/arm64/ops.ts';
import { ARCH_INVARIANTS } from '../../claims.ts';
import { tlbFlushHooks } from './lib/tlbflush.ts';
import { kernelEntry0, kptiHooks, ventryOffset } from './kpti.ts';
import type { Arm64Ctx, Arm64Mitigation, Vector } from './types.ts';

/** `kernel_ventry 0` at `vectors` (VBAR_EL1 never moves), then `kernel_entry 0`. */
function* kernelVentry(c: Arm64Ctx, v: Vector): Hook {
  yield* access('fetch', c.sym.vectors.va + ventryOffset(v), 'vectors');
  yield* kernelEntry0(c);
}

/** `kernel_exit 0`: the `eret` is not patched out. SW PAN is off for this mitigation (`options`). */
function* kernelExit0(): Hook {
  yield eret();
}

export const mitigation: Arm64Mitigation = {
  id: 'arm64/nokpti',
  arch: 'arm64',
  title: 'arm64 without KPTI (Linux 4.16, kpti=off): global kernel mappings stay mapped at EL0',
  source: 'Linux 4.16 with arm64_kernel_unmapped_at_el0() false (arch/arm64/kernel/cpufeature.c unmap_kernel_at_el0)',
  claims: ARCH_INVARIANTS.arm64.filter((i) => i !== 'el0-isolation'),
  nG: false,
  unmapKernelAtEl0: true,
  options: { swPan: false },
  userShared: () => [],
  // The same arch code as KPTI except the exception path and __tlbi_user.
  hooks: { ...kptiHooks, el0Entry: kernelVentry, el0Exit: kernelExit0, ...tlbFlushHooks(false) },
};
export default mitigation;
