// The cost of a mitigation in ops per syscall and per context switch,
// measured by running fixed loops in the model and subtracting the boot: a
// getpid loop whose process then touches a working set of two user pages
// (its text and data, as a tight syscall loop does) after each return, and
// a timer tick that switches between two processes. Besides ops, the runner
// counts flushes by kind and TLB misses (translations that needed a walk).

import type { Event } from '../model/kernel/events.ts';
import type { Mitigation, OptionOverrides } from '../model/mitigations/types.ts';
import { mitigation as nopti } from '../model/mitigations/x86/nopti.ts';
import type { X86Options } from '../model/mitigations/x86/types.ts';
import { cycles, relativeRate, SEED } from './cost-table.ts';
import { resolveOptions, simulate } from './runner/simulate.ts';

export interface Cost {
  /** Average ops of each class per getpid syscall (and its working set). */
  readonly perSyscall: Record<string, number>;
  /** Average ops of each class per context switch between two processes. */
  readonly perSwitch: Record<string, number>;
  /** x86: the estimated syscall cost relative to the same CPU without PTI. */
  readonly estimate?: Estimate;
}

const N = 50;
/** Op classes that cost something on hardware (notes and hints do not). */
const COSTLY = /^(MSR|TLBI|DSB|isb|eret|str|mov-cr|invlpg|invpcid|flush|TLB miss)/;

function perEvent(m: Mitigation, kernel: OptionOverrides, w: Event[]): Record<string, number> {
  const base = simulate([], m, { kernel, invariants: [] }).counts, run = simulate(w, m, { kernel, invariants: [] }).counts;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(run)) {
    const d = (v - (base[k] ?? 0)) / N;
    if (d > 0 && COSTLY.test(k)) out[k] = Math.round(d * 100) / 100;
  }
  return out;
}

export function measureCost(m: Mitigation, kernel: OptionOverrides = {}): Cost {
  const getpid: Event[] = Array.from({ length: N }, (): Event[] => [
    { k: 'syscall', cpu: 0, nr: 'getpid', slot: 0, prot: 'r', task: 0 }, { k: 'access', cpu: 0, op: 'load', slot: 0 }, { k: 'access', cpu: 0, op: 'store', slot: 1 },
  ]).flat();
  // Alternate between the running process and the first runnable one.
  const sw: Event[] = Array.from({ length: N }, () => ({ k: 'switch', cpu: 0, to: 2 }));
  return { perSyscall: perEvent(m, kernel, getpid), perSwitch: perEvent(m, kernel, sw) };
}

/** `measureCost` with the x86 estimate. */
export function measureWithEstimate(m: Mitigation): Cost {
  const c = measureCost(m);
  const e = estimate(m, c.perSyscall);
  return e ? { ...c, estimate: e } : c;
}

/** `2 MSR TTBR1_EL1, 3 ISB` */
export const formatCost = (c: Record<string, number>): string =>
  Object.entries(c).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${v} ${k}`).join(', ');

/** The estimated syscall cost of an x86 mitigation relative to the same CPU without PTI (cost-table.ts). */
export interface Estimate {
  /** Cycles per syscall (and its working set) of the costed op classes, for the mitigation and for nopti. */
  readonly cycles: number;
  readonly baselineCycles: number;
  /** Estimated throughput relative to nopti. */
  readonly relative: number;
  /** The same, applied to the seed's 5.2M/s baseline. */
  readonly rate: number;
}

export function estimate(m: Mitigation, perSyscall: Readonly<Record<string, number>>): Estimate | undefined {
  if (m.arch !== 'x86') return undefined;
  const o = resolveOptions(m) as X86Options;
  const baseline = measureCost(nopti, { pcid: o.pcid, invpcid: o.invpcid }).perSyscall;
  const relative = relativeRate(perSyscall, baseline);
  return { cycles: cycles(perSyscall), baselineCycles: cycles(baseline), relative, rate: relative * SEED.base };
}
