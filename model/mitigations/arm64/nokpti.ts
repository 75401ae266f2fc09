// Linux 4.16 booted with `kpti=off` (arm64_kernel_unmapped_at_el0() false,
// as on CPUs with ID_AA64PFR0_EL1.CSV3): kernel mappings are global, the
// full kernel stays mapped at EL0, exceptions go straight to `vectors`, and
// `__tlbi_user` is a no-op. ASIDs are still paired and in TTBR1, because
// that part of the series is unconditional. Expected to violate EL0 isolation,
// which it does not claim.

import { access, eret, type Hook } from '../../arch/arm64/ops.ts';
import { INVARIANTS } from '../../claims.ts';
import * as tlb from './lib/tlbflush.ts';
import { switchMm } from './lib/mmu_context.ts';
import { uaccessDisable, uaccessEnable } from './lib/uaccess.ts';
import { kernelEntry0, kernelEntry1, kernelExit1, kptiHooks, kptiSwitchContext, mapEntryTrampoline, ventryOffset } from './kpti.ts';
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
  claims: INVARIANTS.filter((i) => i !== 'el0-isolation'),
  nG: false,
  unmapKernelAtEl0: true,
  options: { swPan: false },
  userShared: () => [],
  hooks: {
    cpuSetup: kptiHooks.cpuSetup,
    layout: mapEntryTrampoline,
    el0Entry: kernelVentry,
    el0Exit: kernelExit0,
    el1Entry: kernelEntry1,
    el1Exit: (c, saved) => kernelExit1(c, saved as boolean),
    switchMm: (c, prev, next, tsk) => switchMm(c, prev, next, tsk, kptiSwitchContext),
    flushTlbMm: (c, mm) => tlb.flushTlbMm(mm, false),
    flushTlbPage: (c, mm, uaddr) => tlb.flushTlbPage(mm, uaddr, false),
    flushTlbRange: (c, mm, start, end, lastLevel) => tlb.flushTlbRange(mm, start, end, lastLevel, false),
    uaccessEnable,
    uaccessDisable,
  },
};
export default mitigation;
