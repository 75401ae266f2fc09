// Boot on every CPU: `__cpu_setup`, then (for a mitigation that rewrites the
// boot mappings nG) the capability callback in stop_machine context
// (arch/arm64/kernel/cpufeature.c: `stop_machine(caps->enable, caps,
// cpu_online_mask)` in 4.16), then the initcalls on CPU 0
// (`map_entry_trampoline` is a core_initcall), then a first task per CPU.
// The boot hooks stay in flight when the workload starts, so workloads
// interleave them and land hardware events inside them.

import { access, daif, wait, type Hook, type Op } from '../../arch/arm64/ops.ts';
import type { Effect } from '../../arch/arm64/machine.ts';
import type { AnyHook } from '../../arch/ops.ts';
import type { Arm64Ctx, BootState } from '../../mitigations/arm64/types.ts';
import type { Arm64Kernel } from './kernel.ts';

export const newBootState = (): BootState => ({ ngMappings: false, idmapKptiFlag: 1, stopArrived: 0, stopDone: 0, initcallsDone: false, rewriting: false });

export function* bootCpu(k: Arm64Kernel, cpu: number): AnyHook {
  yield* k.hooks.cpuSetup(k.ctx(cpu));
  // start_kernel / secondary_start_kernel run kernel code and touch per-CPU data: the TLB fills with kernel entries.
  yield* access('fetch', k.sym.vectors.va, cpu === 0 ? 'start_kernel' : 'secondary_start_kernel');
  yield* access('ldr', k.sym.init_task.va, 'current');
  const install = k.hooks.installNgMappings;
  if (install) yield* stopMachine(k, cpu, (c) => install(c));
  if (cpu === 0) {
    if (k.hooks.layout) yield* k.hooks.layout(k.ctx(0));
    k.boot.initcallsDone = true;
  } else {
    yield wait('kernel_init on cpu0 has run the initcalls', () => k.boot.initcallsDone);
  }
  yield* k.firstTask(cpu);
}

/**
 * kernel/stop_machine.c `multi_cpu_stop`: every online CPU masks IRQs and
 * waits until all have arrived, runs the callback, and waits until all
 * have finished. Nothing else runs on any CPU meanwhile (no tasks exist yet).
 */
function* stopMachine(k: Arm64Kernel, cpu: number, fn: (c: Arm64Ctx) => Hook): Hook {
  const n = k.opts.ncpus, b = k.boot;
  yield daif(true);
  b.stopArrived++;
  yield wait('every CPU is in stop_machine (MULTI_STOP_RUN)', () => b.stopArrived === n);
  yield* fn(k.ctx(cpu));
  yield { op: 'hint', hint: 'resumed' };
  b.stopDone++;
  yield wait('every CPU has run the callback (MULTI_STOP_EXIT)', () => b.stopDone === n);
  if (cpu === 0) yield { op: 'hint', hint: 'ng-installed' };
}

/** A store that turns a global block or page nG: what the nG rewrite does. */
const setsNg = (e: Effect): boolean =>
  e.kind === 'store' && (e.old.kind === 'block' || e.old.kind === 'page') && !e.old.nG && (e.desc.kind === 'block' || e.desc.kind === 'page') && e.desc.nG;

/**
 * Ghost bookkeeping for the `ngRewriteInterleaved` statistic: CPU 0's nG
 * rewrite is in flight from its first global -> nG store until it releases
 * the parked CPUs (`__idmap_kpti_flag` back to 0) or, with nobody parked,
 * until it is done. `op` is what CPU `cpu` just ran; none for a hardware event.
 */
export function trackNgRewrite(k: Arm64Kernel, cpu: number, op?: Op): void {
  const b = k.boot;
  if (b.ngMappings || b.idmapKptiFlag === 0) b.rewriting = false;
  else if (op && cpu === 0) b.rewriting ||= k.effects.some(setsNg);
  else if (b.rewriting) k.stats.ngRewriteInterleaved++;
}
