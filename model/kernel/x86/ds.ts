// Intel's PEBS buffers in the cpu_entry_area (arch/x86/events/intel/ds.c, x86-pti.md §6e,
// 4.15 on). The CPU writes PEBS records through the linear address in the
// debug store whatever CR3 is loaded, so under PTI each CPU's buffer is
// mapped at `cpu_debug_buffers.pebs_buffer` of its cpu_entry_area, which
// every user page table shares: while perf holds the buffers, their frames
// belong to the user-shared set (X86View.userShared). `x86_reserve_hardware` maps them when the
// first perf event is created (`reserve_ds_buffers` -> `alloc_pebs_buffer`
// -> `ds_update_cea`), `x86_release_hardware` unmaps and frees them when
// the last one goes (`release_pebs_buffer` -> `ds_clear_cea`,
// `dsfree_pages`). `ds_update_cea` and `ds_clear_cea` came with PTI, so
// they are mitigation hooks. Simplifications: one page per buffer (Linux:
// PEBS_BUFFER_SIZE, 16 pages); no BTS buffer; a task holds at most one
// event, closed by `close` or at exit; while perf holds the PMU every
// user access is sampled, and the PEBS assist writes its record to this
// CPU's buffer (an implicit supervisor-mode store, X86Kernel.pebsAssist).

import type { AnyHook } from '../../arch/ops.ts';
import { lock, unlock } from '../../arch/x86/ops.ts';
import type { VA } from '../../arch/va.ts';
import type { X86Kernel } from './kernel.ts';
import { CEA, cpuEntryArea } from './layout.ts';

/** `&get_cpu_entry_area(cpu)->cpu_debug_buffers.pebs_buffer`. */
export const pebsBufferVa = (cpu: number): VA => cpuEntryArea(cpu) + CEA.pebs_buffer;

/** `x86_reserve_hardware`: the first event (`pmc_refcount` 0 -> 1) runs `reserve_ds_buffers`. */
export function* x86ReserveHardware(k: X86Kernel, c: number): AnyHook {
  yield lock('pmc_reserve_mutex');
  if (k.pmcRefcount++ === 0) {
    for (let cpu = 0; cpu < k.opts.ncpus; cpu++) {
      const pa = k.mem.alloc('entry-area', `pebs_buffer(cpu${cpu})`); // alloc_pebs_buffer: dsalloc_pages
      k.pebsBuffers[cpu] = pa;
      yield* k.hooks.dsUpdateCea(k.ctx(c), pebsBufferVa(cpu), pa);
    }
    k.pebsEnabled = true; // the event can be scheduled in once its init is done
  }
  yield unlock('pmc_reserve_mutex');
}

/** `x86_release_hardware`: the last event (`pmc_refcount` 1 -> 0) runs `release_ds_buffers`. */
export function* x86ReleaseHardware(k: X86Kernel, c: number): AnyHook {
  yield lock('pmc_reserve_mutex');
  if (--k.pmcRefcount === 0) {
    k.pebsEnabled = false; // the last event is gone: PEBS is off on every CPU before its buffer goes
    for (let cpu = 0; cpu < k.opts.ncpus; cpu++) {
      const pa = k.pebsBuffers[cpu]!;
      yield* k.hooks.dsClearCea(k.ctx(c), pebsBufferVa(cpu));
      k.pebsBuffers[cpu] = undefined;
      k.mem.free(pa); // dsfree_pages
    }
  }
  yield unlock('pmc_reserve_mutex');
}
