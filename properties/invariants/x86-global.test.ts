// x86-global judges the state, not only the fill just made: a global entry
// cached earlier is judged again when its frame's label or the user-shared
// set changes, as when perf frees a PEBS buffer that another CPU still
// caches through its cpu_entry_area alias (x86/broken/ds-cea-local-flush).
import { describe, expect, it } from 'vitest';
import { vaHex } from '../../model/arch/va.ts';
import { entrySize } from '../../model/arch/x86/tlb.ts';
import type { Event, Syscall } from '../../model/kernel/events.ts';
import { pebsBufferVa } from '../../model/kernel/x86/ds.ts';
import type { X86Kernel } from '../../model/kernel/x86/kernel.ts';
import { mitigation as dsLocalFlush } from '../../model/mitigations/x86/broken/ds-cea-local-flush.ts';
import { mitigation as ptiPcid } from '../../model/mitigations/x86/pti-pcid.ts';
import { simulate } from '../runner/simulate.ts';
import { x86Global } from './x86-global.ts';

const sys = (cpu: number, nr: Syscall): Event => ({ k: 'syscall', cpu, nr, slot: 0, prot: 'rw', task: 0 });
const load = (cpu: number): Event => ({ k: 'access', cpu, op: 'load', slot: 0 });
const RULE = 'a global TLB entry maps a frame outside the user-shared set';
const VA0 = vaHex(pebsBufferVa(0));

/** CPU 0 caches its PEBS buffer's global cpu_entry_area entry (the PEBS assist's store). */
function cachedPebs() {
  const k = simulate([sys(0, 'perf_event_open'), load(0)], ptiPcid, { invariants: [] }).kernel as X86Kernel;
  const pa = k.pebsBuffers[0]!;
  expect(k.machine.cpus[0].tlb.lookup(pebsBufferVa(0), k.machine.cpus[0].pcid).some((e) => e.global && e.pa === pa)).toBe(true);
  expect(x86Global.check(k, { cpu: 0, effects: [] })).toBeUndefined();
  return { k, pa };
}

describe('x86-global', () => {
  it('catches ds-cea-local-flush: CPU 0 still caches the freed buffer after CPU 1 closes the event; the twin holds', () => {
    const w = [sys(1, 'perf_event_open'), sys(1, 'exit'), load(0)];
    const r = simulate(w, dsLocalFlush, { invariants: ['x86-global'] });
    expect(r.violation).toMatchObject({ invariant: 'x86-global', rule: RULE, witness: { cpu: 0, va: VA0, label: 'free' } });
    expect(simulate(w, ptiPcid, { invariants: ptiPcid.claims }).violation).toBeUndefined();
  });

  it('judges a cached global entry again when its frame is freed, with no fill in the step', () => {
    const { k, pa } = cachedPebs();
    k.pebsBuffers[0] = undefined; // x86_release_hardware: out of the user-shared set...
    k.mem.free(pa); // ...and the page freed (dsfree_pages)
    expect(x86Global.check(k, { cpu: 1, effects: [] })).toMatchObject({ rule: RULE, witness: { cpu: 0, va: VA0, label: 'free' } });
  });

  it('judges it again when only the user-shared set shrinks', () => {
    const { k, pa } = cachedPebs();
    k.pebsBuffers[0] = undefined;
    expect(x86Global.check(k, { cpu: 1, effects: [] })).toMatchObject({ rule: RULE, witness: { cpu: 0, va: VA0, label: k.mem.label(pa) } });
  });

  it('still judges a global entry a step fills, even one the step drops again', () => {
    const { k, pa } = cachedPebs();
    const e = k.machine.cpus[0].tlb.lookup(pebsBufferVa(0), k.machine.cpus[0].pcid).find((x) => x.global)!;
    const text = k.sym.primary_crng.pa; // a kernel secret, never user-shared
    const fill = { kind: 'fill' as const, cpu: 1, entry: { ...e, pa: text }, conflicts: [], speculative: true };
    expect(entrySize(e)).toBe(4096);
    expect(pa).not.toBe(text);
    expect(x86Global.check(k, { cpu: 1, effects: [fill] })).toMatchObject({ rule: RULE, witness: { cpu: 1, label: 'kernel-secret' } });
  });
});
