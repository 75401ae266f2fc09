// "Hide everything": a trampoline entry that never maps the kernel
// (`tramp_ventry` without `tramp_map_kernel`). The kernel faults on its
// own vectors right after entry, so the functional invariant must fail. EL0
// isolation is lost too, though not by hiding: `tramp_unmap_kernel` on the
// way out subtracts from a TTBR1 that already holds tramp_pg_dir, so EL0
// returns with a page inside swapper's image as its TTBR1 root.

import { PAGE_SIZE } from '../../../arch/arm64/descriptor.ts';
import { access, isb, msr, type Hook } from '../../../arch/arm64/ops.ts';
import { vaBig } from '../../../arch/va.ts';
import { TRAMP_VALIAS } from '../../../kernel/arm64/layout.ts';
import { kernelEntry0, kptiHooks, mitigation as kpti, ventryOffset } from '../kpti.ts';
import type { Arm64Ctx, Arm64Mitigation, Vector } from '../types.ts';

function* trampVentry(c: Arm64Ctx, v: Vector): Hook {
  // BUG: tramp_map_kernel missing; TTBR1 still points at tramp_pg_dir.
  yield isb();
  yield* access('ldr', TRAMP_VALIAS + PAGE_SIZE, '__entry_tramp_data_start');
  yield msr('VBAR_EL1', vaBig(c.sym.vectors.va));
  yield isb();
  yield* access('fetch', c.sym.vectors.va + ventryOffset(v), 'vectors');
  yield* kernelEntry0(c);
}

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/broken/kpti-no-tramp-map',
  title: 'KPTI entry that never maps the kernel (tramp_map_kernel missing)',
  source: 'drops tramp_map_kernel from tramp_ventry (arch/arm64/kernel/entry.S); a mitigation that hides everything by breaking the kernel',
  expect: { violates: ['functional'], twin: 'arm64/kpti' },
  hooks: { ...kptiHooks, el0Entry: trampVentry },
};
export default mitigation;
