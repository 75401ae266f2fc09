// fast-check arbitraries for workloads: software events, CPU choice and
// hardware nondeterminism, all plain data so they shrink (toward fewer
// events, CPU 0, slot 0, the first syscall). Each architecture gets only
// the events its machine has: NMIs and LDT segment loads on x86;
// unsynchronised register writes, early TLBI completion and buffered table
// stores on arm64.

import fc from 'fast-check';
import type { Event, HardwareEvent, RunEvent, SoftwareEvent, Syscall } from '../../model/kernel/events.ts';
import type { Prot } from '../../model/kernel/task.ts';

export interface WorkloadShape {
  readonly arch: 'arm64' | 'x86';
  /** CPUs events may target. */
  readonly ncpus: number;
  /** Longest workload. */
  readonly maxEvents: number;
}

export const DEFAULT_SHAPE: WorkloadShape = { arch: 'arm64', ncpus: 2, maxEvents: 40 };

/** Syscalls, weighted toward the ones that change translations. */
const SYSCALL_WEIGHTS: [Syscall, number][] = [
  ['getpid', 1], ['getrandom', 2], ['mmap', 3], ['munmap', 3], ['mprotect', 2], ['fork', 3], ['clone', 1], ['exit', 1], ['move_pages', 2],
];

/** A value biased toward 0, so that events meet on one CPU, one page, one VA (0 is also where shrinking goes). */
const biased = (max: number): fc.Arbitrary<number> => fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat({ max }) });
/** User VA slots: 0 and 1 are mapped in every process from the start. */
const slot = biased(5);
const prot = fc.constantFrom<Prot>('rw', 'r', 'rx');

type Weighted<T> = { weight: number; arbitrary: fc.Arbitrary<T> };

export function softwareEvent(ncpus: number, arch: WorkloadShape['arch'] = 'arm64'): fc.Arbitrary<SoftwareEvent> {
  const cpu = biased(ncpus - 1);
  const weights: [Syscall, number][] = arch === 'x86' ? [...SYSCALL_WEIGHTS, ['modify_ldt', 2], ['perf_event_open', 3], ['close', 3]] : SYSCALL_WEIGHTS;
  const nr = fc.oneof(...weights.map(([n, weight]) => ({ weight, arbitrary: fc.constant(n) })));
  const events: Weighted<SoftwareEvent>[] = [
    { weight: 5, arbitrary: fc.record({ k: fc.constant('syscall' as const), cpu, nr, slot, prot, task: fc.nat({ max: 7 }) }) },
    { weight: 4, arbitrary: fc.record({ k: fc.constant('access' as const), cpu, op: fc.constantFrom('load' as const, 'store' as const), slot }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('irq' as const), cpu }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('switch' as const), cpu, to: fc.nat({ max: 4 }) }) },
  ];
  if (arch === 'x86') {
    events.push(
      { weight: 1, arbitrary: fc.record({ k: fc.constant('nmi' as const), cpu }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('segment' as const), cpu, reg: fc.constantFrom('ds' as const, 'ss' as const) }) },
    );
  }
  return fc.oneof(...events);
}

export function hardwareEvent(ncpus: number, arch: WorkloadShape['arch'] = 'arm64'): fc.Arbitrary<HardwareEvent> {
  const cpu = biased(ncpus - 1);
  const events: Weighted<HardwareEvent>[] = [
    { weight: 5, arbitrary: fc.record({ k: fc.constant('fill' as const), cpu, va: fc.oneof({ weight: 3, arbitrary: biased(31) }, { weight: 1, arbitrary: fc.nat({ max: 1023 }) }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('evict' as const), cpu, n: fc.nat({ max: 15 }) }) },
  ];
  if (arch === 'arm64') {
    events.push(
      { weight: 2, arbitrary: fc.record({ k: fc.constant('sync' as const), cpu, which: fc.nat({ max: 3 }) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('land' as const), cpu }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('drain' as const), cpu }) },
    );
  }
  return fc.oneof(...events);
}

/**
 * Ops one `run` event steps: mostly few, so that other events land inside
 * hooks; sometimes up to `LONG_RUN`, so that a schedule can stop inside long
 * code (the late-boot nG rewrite keeps CPU 0 busy for ~1100 ops, MMU off or
 * on) before a software event runs everything in flight to completion.
 * Every range starts at 1, where shrinking goes.
 */
export const LONG_RUN = 1500;
const runLength = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 8 }) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: LONG_RUN }) },
);

/** The schedule: which CPU runs next, and for how many ops. */
export function runEvent(ncpus: number): fc.Arbitrary<RunEvent> {
  return fc.record({ k: fc.constant('run' as const), cpu: biased(ncpus - 1), n: runLength });
}

/**
 * A boot schedule to open a workload with. Boot is in flight when the
 * workload starts and the first software event runs it to completion, while
 * a `run` stops when its CPU waits for another (the stop_machine rendezvous,
 * a parked CPU's flag). So: up to two rounds of long runs, CPU 0, 1, ... in
 * turn, which carry boot into long code on CPU 0 while the others wait (CPU
 * 0 to the rendezvous, the others in and parked, CPU 0 into the nG rewrite),
 * so that the events after them land inside it. Shrinks to none.
 */
export function bootSchedule(ncpus: number): fc.Arbitrary<RunEvent[]> {
  const rounds = fc.array(fc.integer({ min: 1, max: LONG_RUN }), { minLength: 1, maxLength: 2 * ncpus })
    .map((ns) => ns.map((n, i): RunEvent => ({ k: 'run', cpu: i % ncpus, n })));
  return fc.oneof({ weight: 1, arbitrary: fc.constant<RunEvent[]>([]) }, { weight: 1, arbitrary: rounds });
}

export function workload(shape: WorkloadShape = DEFAULT_SHAPE): fc.Arbitrary<Event[]> {
  const ev: fc.Arbitrary<Event> = fc.oneof(
    { weight: 3, arbitrary: softwareEvent(shape.ncpus, shape.arch) }, { weight: 2, arbitrary: hardwareEvent(shape.ncpus, shape.arch) }, { weight: 2, arbitrary: runEvent(shape.ncpus) },
  );
  // The boot schedule is drawn after the events: a given seed still draws the events it drew before the schedule existed.
  return fc.tuple(fc.array(ev, { minLength: 1, maxLength: shape.maxEvents }), bootSchedule(shape.ncpus)).map(([rest, boot]): Event[] => [...boot, ...rest]);
}
