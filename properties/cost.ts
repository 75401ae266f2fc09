// The cost of a mitigation in ops per syscall and per context switch,
// measured by running fixed loops in the model (a getpid loop; a timer tick
// that switches between two processes) and subtracting the boot.

import type { Event } from '../model/kernel/events.ts';
import type { Mitigation, OptionOverrides } from '../model/mitigations/types.ts';
import { simulate } from './runner/simulate.ts';

export interface Cost {
  /** Average ops of each class per getpid syscall. */
  readonly perSyscall: Record<string, number>;
  /** Average ops of each class per context switch between two processes. */
  readonly perSwitch: Record<string, number>;
}

const N = 50;
/** Op classes that cost something on hardware (notes and hints do not). */
const COSTLY = /^(MSR|TLBI|DSB|isb|eret|str)/;

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
  const getpid: Event[] = Array.from({ length: N }, () => ({ k: 'syscall', cpu: 0, nr: 'getpid', slot: 0, prot: 'r', task: 0 }));
  // Alternate between the running process and the first runnable one.
  const sw: Event[] = Array.from({ length: N }, () => ({ k: 'switch', cpu: 0, to: 2 }));
  return { perSyscall: perEvent(m, kernel, getpid), perSwitch: perEvent(m, kernel, sw) };
}

/** `2 MSR TTBR1_EL1, 3 ISB` */
export const formatCost = (c: Record<string, number>): string =>
  Object.entries(c).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${v} ${k}`).join(', ');
