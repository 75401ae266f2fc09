// The runner: determinism, events that do not apply are skipped, and a
// mitigation that misbehaves is reported as a mitigation error, not a crash.

import { describe, expect, it } from 'vitest';
import { note, type Hook } from '../../model/arch/arm64/ops.ts';
import type { Event } from '../../model/kernel/events.ts';
import { kptiHooks, mitigation as kpti } from '../../model/mitigations/arm64/kpti.ts';
import type { Arm64Mitigation } from '../../model/mitigations/arm64/types.ts';
import { simulate } from './simulate.ts';

const getpid = (cpu = 0): Event => ({ k: 'syscall', cpu, nr: 'getpid', slot: 0, prot: 'r', task: 0 });
const withHooks = (hooks: Partial<Arm64Mitigation['hooks']>): Arm64Mitigation => ({ ...kpti, id: 'test/custom', hooks: { ...kptiHooks, ...hooks } });

describe('simulate', () => {
  it('is deterministic', () => {
    const w: Event[] = [getpid(0), { k: 'access', cpu: 1, op: 'store', slot: 1 }, { k: 'fill', cpu: 0, va: 3 }, { k: 'switch', cpu: 0, to: 2 }];
    const a = simulate(w, kpti, { trace: true }), b = simulate(w, kpti, { trace: true });
    expect(a.trace).toEqual(b.trace);
    expect(a.ops).toBe(b.ops);
    expect(a.trace.length).toBeGreaterThan(40);
  });

  it('skips events that do not apply (CPU out of range, syscall on an idle CPU)', () => {
    const base = simulate([], kpti).ops;
    expect(simulate([getpid(7), { k: 'fill', cpu: 9, va: 0 }], kpti).ops).toBe(base);
    // After exit with no runnable task left on CPU 0's side, further syscalls there do nothing.
    const idle = simulate([{ k: 'switch', cpu: 0, to: 0 }, getpid(0)], kpti);
    expect(idle.events.syscall ?? 0).toBe(0);
  });

  it('takes an IRQ at EL1 inside a hook with IRQs unmasked', () => {
    const r = simulate([{ k: 'syscall', cpu: 0, nr: 'mmap', slot: 3, prot: 'rw', task: 0 }, { k: 'irq', cpu: 0 }], kpti, { trace: true });
    expect(r.events['irq-el1']).toBe(1);
    expect(r.trace.some((l) => l.text.includes('el1_irq'))).toBe(true);
    expect(r.violation).toBeUndefined();
  });

  it('reports a hook that throws as a mitigation error', () => {
    const r = simulate([getpid()], withHooks({ *flushTlbMm() { throw new Error('boom'); }, el0Entry: function* (): Hook { throw new Error('entry exploded'); } }));
    expect(r.error).toMatchObject({ kind: 'threw', message: 'hook threw: entry exploded', event: 0 });
  });

  it('reports a hook that never ends', () => {
    const r = simulate([getpid()], withHooks({ *el0Entry() { for (;;) yield note('spin'); } }), { stepBudget: 500 });
    expect(r.error).toMatchObject({ kind: 'never-ends', event: 0 });
  });

  it('reports an out-of-range op field', () => {
    const r = simulate([getpid()], withHooks({ *el0Entry() { yield { op: 'tlbi', type: 'ASIDE1', is: true, asid: 70000 }; } }));
    expect(r.error).toMatchObject({ kind: 'bad-op', message: 'tlbi ASIDE1: asid 70000 out of range 0..65535' });
  });

  it('reports an op the machine rejects (eret with no exception taken)', () => {
    const r = simulate([], withHooks({ *cpuSetup(c) { yield* kptiHooks.cpuSetup(c); yield { op: 'eret' }; } }));
    expect(r.error?.kind).toBe('bad-op');
    expect(r.error?.message).toMatch(/ERET: eret with no exception taken/);
  });

  it('reports a layout hook that throws', () => {
    const r = simulate([], withHooks({ layout() { throw new Error('no tramp'); } }));
    expect(r.error).toMatchObject({ kind: 'threw', message: 'hook threw: no tramp', event: -1 });
  });
});
