// PEBS buffers in the cpu_entry_area (ds.ts, lib/ds.ts): the first perf
// event maps each CPU's buffer, global (4.17 `cea_set_pte`) and in every
// user page table; the last one unmaps it with a shootdown on every CPU
// (`flush_tlb_kernel_range`) before the page is freed.
import { describe, expect, it } from 'vitest';
import type { VA } from '../../arch/va.ts';
import { NOT_PRESENT } from '../../arch/x86/pte.ts';
import { walk } from '../../arch/x86/walk.ts';
import { simulate } from '../../../properties/runner/simulate.ts';
import { mitigation as dsLocalFlush } from '../../mitigations/x86/broken/ds-cea-local-flush.ts';
import { mitigation as ptiPcid } from '../../mitigations/x86/pti-pcid.ts';
import type { X86Mitigation } from '../../mitigations/x86/types.ts';
import type { Event, Syscall } from '../events.ts';
import { pebsBufferVa } from './ds.ts';
import type { X86Kernel } from './kernel.ts';
import { PTI_USER_PGD_OFFSET } from './pgtable.ts';

const sys = (cpu: number, nr: Syscall): Event => ({ k: 'syscall', cpu, nr, slot: 0, prot: 'rw', task: 0 });
const load = (cpu: number): Event => ({ k: 'access', cpu, op: 'load', slot: 0 });

function run(m: X86Mitigation, events: Event[]) {
  const r = simulate(events, m, { trace: true });
  const k = r.kernel as X86Kernel;
  const walkFrom = (root: number, v: VA) => walk((t, i) => k.mem.readEntry(t, i) ?? NOT_PRESENT, root, v);
  return { r, k, walkFrom, lines: r.trace.filter((l) => l.event >= 0).map((l) => `cpu${l.cpu} ${l.text}`) };
}

describe('x86_reserve_hardware', () => {
  it('maps the PEBS buffer of each CPU, global and writable, where every user page table sees it, and shares its frame', () => {
    const { k, walkFrom } = run(ptiPcid, [sys(0, 'perf_event_open')]);
    expect(k.pmcRefcount).toBe(1);
    for (let cpu = 0; cpu < 2; cpu++) {
      const pa = k.pebsBuffers[cpu]!;
      expect(k.mem.frame(pa)?.name).toBe(`pebs_buffer(cpu${cpu})`);
      expect(k.view.userShared().has(pa)).toBe(true);
      const r = walkFrom(k.running[0]!.mm.pgd + PTI_USER_PGD_OFFSET, pebsBufferVa(cpu));
      expect(r).toMatchObject({ kind: 'ok', pa, perms: { write: true, user: false } });
      expect(r.kind === 'ok' && r.leaf.G).toBe(true);
    }
  });

  it('a second event by the same task changes nothing (one event per task)', () => {
    const { k } = run(ptiPcid, [sys(0, 'perf_event_open'), sys(0, 'perf_event_open')]);
    expect(k.pmcRefcount).toBe(1);
  });

  it('every user access, and SYSCALL, on a CPU writes a PEBS record to its buffer (an implicit supervisor-mode store)', () => {
    const { lines } = run(ptiPcid, [sys(0, 'perf_event_open'), load(0), load(1), sys(1, 'getpid')]);
    const writes = (cpu: number, va: string) => lines.filter((l) => l.startsWith(`cpu${cpu} implicit write ${va} (PEBS record`)).length;
    expect([writes(0, '0xfffffe000001d000'), writes(1, '0xfffffe0000049000')]).toEqual([1, 2]); // cpu1: the load and SYSCALL
  });
});

describe('x86_release_hardware', () => {
  const events = [sys(0, 'perf_event_open'), load(0), load(1), load(1), sys(0, 'close')];

  it('unmaps the buffers, shoots them down on every CPU by IPI, then frees the pages', () => {
    const { r, k, lines, walkFrom } = run(ptiPcid, events);
    expect(r.violation).toBeUndefined();
    expect([k.pmcRefcount, ...k.pebsBuffers]).toEqual([0, undefined, undefined]);
    expect(walkFrom(k.sym.init_top_pgt.pa, pebsBufferVa(1))).toMatchObject({ kind: 'fault', reason: 'not-present' });
    expect(lines).toContain('cpu1 // smp_call_function_interrupt: do_kernel_range_flush');
    expect(lines.some((l) => /^cpu1 invlpg 0xfffffe0000049000$/.test(l))).toBe(true);
  });

  it('x86/broken/ds-cea-local-flush: CPU 1 keeps its global entry for its freed buffer, and user code there reaches the page', () => {
    const { r } = run(dsLocalFlush, events);
    expect(r.violation).toMatchObject({ invariant: 'el0-isolation', witness: { cpu: 1, va: '0xfffffe0000049000', label: 'free' } });
  });

  it('exit closes the event the task holds', () => {
    const { k } = run(ptiPcid, [sys(0, 'perf_event_open'), sys(0, 'exit')]);
    expect(k.pmcRefcount).toBe(0);
  });

  it('close without an event does nothing', () => {
    const { k, lines } = run(ptiPcid, [sys(0, 'close')]);
    expect(k.pmcRefcount).toBe(0);
    expect(lines.some((l) => l.includes('pmc_reserve_mutex'))).toBe(false);
  });
});
