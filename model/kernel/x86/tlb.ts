// TLB shootdown as arch/x86/mm/tlb.c (4.15) does it: `flush_tlb_mm_range`
// bumps the mm's `tlb_gen`, flushes locally if the mm is loaded here, and
// IPIs the other CPUs in `mm_cpumask` (`native_flush_tlb_others` ->
// `smp_call_function_many(..., wait = 1)`); `flush_tlb_func_common` brings
// a CPU's ASID slot up to the mm's `tlb_gen` with a partial flush
// (`__flush_tlb_one_user` per page) or a full one (`local_flush_tlb`). The
// mitigation supplies those two primitives. `flush_tlb_kernel_range`
// runs `__flush_tlb_one_kernel` per page on every CPU (`on_each_cpu`).

import { cli, ipi, note, sti, wait, type Hook } from '../../arch/x86/ops.ts';
import type { VA } from '../../arch/va.ts';
import type { Mm } from '../task.ts';
import type { X86Kernel } from './kernel.ts';

/** `TLB_FLUSH_ALL`. */
export const TLB_FLUSH_ALL = Infinity;
/** `tlb_single_page_flush_ceiling`: larger ranges are flushed whole. */
export const TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

/** `struct flush_tlb_info`. */
export interface FlushTlbInfo {
  readonly mm: Mm;
  readonly start: VA;
  readonly end: VA;
  readonly new_tlb_gen: number;
}

/** A queued `call_single_data`: the function (by name, for the trace) with its argument bound, and the sender's `csd_unlock`. */
export interface Csd {
  readonly name: string;
  readonly func: (cpu: number) => Hook;
  readonly unlock: () => void;
}

/** `flush_tlb_mm_range(mm, start, end, vmflag)`. */
export function* flushTlbMmRange(k: X86Kernel, c: number, mm: Mm, start: VA, end: VA): Hook {
  const whole = end === TLB_FLUSH_ALL || (end - start) / 4096 > TLB_SINGLE_PAGE_FLUSH_CEILING;
  const info: FlushTlbInfo = { mm, start: whole ? 0 : start, end: whole ? TLB_FLUSH_ALL : end, new_tlb_gen: ++mm.tlbGen }; // inc_mm_tlb_gen
  if (k.tlbstate[c].loaded_mm === mm) {
    yield cli(); // local_irq_disable
    yield* flushTlbFuncCommon(k, c, info);
    yield sti();
  }
  const others = [...k.mmCpumask(mm)].filter((t) => t !== c);
  if (others.length) yield* flushTlbOthers(k, others, info);
}

/** `flush_tlb_func_common`: catch this CPU's loaded ASID up with the mm's `tlb_gen`. */
function* flushTlbFuncCommon(k: X86Kernel, c: number, f: FlushTlbInfo): Hook {
  const ts = k.tlbstate[c], loaded = ts.loaded_mm as Mm | undefined;
  if (!loaded) return; // loaded_mm == &init_mm
  const ctx = ts.ctxs[ts.loaded_mm_asid], mmTlbGen = loaded.tlbGen;
  if (ctx.tlb_gen === mmTlbGen) return; // "we're already up to date"
  const h = k.hooks, x = k.ctx(c);
  if (f.end !== TLB_FLUSH_ALL && f.new_tlb_gen === ctx.tlb_gen + 1 && f.new_tlb_gen === mmTlbGen) {
    for (let addr = f.start; addr < f.end; addr += 4096) yield* h.flushTlbOneUser(x, addr); // partial flush
  } else {
    yield* h.flushTlbLocal(x); // full flush
  }
  ctx.tlb_gen = mmTlbGen;
}

/** `smp_call_function_many(cpus, func, info, wait = 1)`: queue, IPI, wait. */
function* smpCallFunctionMany(k: X86Kernel, cpus: number[], name: string, func: (cpu: number) => Hook): Hook {
  const pending = new Set(cpus);
  for (const t of cpus) {
    k.callQueue[t].push({ name, func, unlock: () => pending.delete(t) });
    yield ipi(t);
  }
  yield wait(`cpu${cpus.join(',')} ran ${name} (csd_lock_wait)`, () => pending.size === 0);
}

/** `native_flush_tlb_others`: `flush_tlb_func_remote` on `cpus`, which returns at once where `f->mm` is not loaded. */
function flushTlbOthers(k: X86Kernel, cpus: number[], info: FlushTlbInfo): Hook {
  return smpCallFunctionMany(k, cpus, 'flush_tlb_func_remote', function* (t) {
    if (k.tlbstate[t].loaded_mm === info.mm) yield* flushTlbFuncCommon(k, t, info);
  });
}

/** The CALL_FUNCTION IPI handler (`flush_smp_call_function_queue`): each queued function. */
export function* callFunctionQueue(k: X86Kernel, c: number): Hook {
  const queued = k.callQueue[c].splice(0);
  yield note(`smp_call_function_interrupt: ${[...new Set(queued.map((q) => q.name))].join(', ')}`);
  for (const csd of queued) {
    yield* csd.func(c);
    csd.unlock();
  }
}

/** `on_each_cpu(func, info, 1)`: the other online CPUs by IPI, waiting for them, then this one with IRQs off. */
function* onEachCpu(k: X86Kernel, c: number, name: string, func: (cpu: number) => Hook): Hook {
  const others = k.tlbstate.map((_, t) => t).filter((t) => t !== c && k.nmiReady[t]); // cpu_online_mask: cpu_init done
  if (others.length) yield* smpCallFunctionMany(k, others, name, func);
  yield cli();
  yield* func(c);
  yield sti();
}

/** `flush_tlb_kernel_range(start, end)`: `do_kernel_range_flush` (`__flush_tlb_one_kernel` per page) or, above the ceiling, `do_flush_tlb_all`, on every CPU. */
export function flushTlbKernelRange(k: X86Kernel, c: number, start: VA, end: VA): Hook {
  if ((end - start) / 4096 > TLB_SINGLE_PAGE_FLUSH_CEILING) return onEachCpu(k, c, 'do_flush_tlb_all', (t) => k.hooks.flushTlbAll(k.ctx(t)));
  return onEachCpu(k, c, 'do_kernel_range_flush', function* (t) {
    for (let a = start; a < end; a += 4096) yield* k.hooks.flushTlbOneKernel(k.ctx(t), a);
  });
}
