// The cost of a mitigation in ops per event, measured by running fixed loops
// in the model and subtracting the boot. After every event the process
// touches its working set, two user pages (its text and data, as a tight
// loop does), so the TLB misses it takes after returning to user mode show.
// The loops: a getpid syscall; a timer tick that switches between two
// processes; and an mprotect of the text page (rx <-> r, so it stays
// readable), whose flush_tlb_mm_range takes the flush paths
// (flush_tlb_one_user: INVLPG, and INVPCID or the deferred
// user_pcid_flush_mask) before the page is touched again. Besides ops, the
// runner counts flushes by kind and TLB misses (translations that needed a walk).

import type { Event } from '../model/kernel/events.ts';
import type { Mitigation, OptionOverrides } from '../model/mitigations/types.ts';
import { mitigation as nopti } from '../model/mitigations/x86/nopti.ts';
import type { X86Options } from '../model/mitigations/x86/types.ts';
import { cycles, relativeRate, SEED, uncosted } from './cost-table.ts';
import { resolveOptions, simulate } from './runner/simulate.ts';

export interface Cost {
  /** Average ops of each class per getpid syscall (and its working set). */
  readonly perSyscall: Record<string, number>;
  /** Average ops of each class per context switch between two processes (and the new one's working set). */
  readonly perSwitch: Record<string, number>;
  /** Average ops of each class per mprotect of a working-set page (and the working set); absent when review stopped on a mitigation error. */
  readonly perMprotect?: Record<string, number>;
  /** Classes to print even at zero (x86: issue 4 §5). */
  readonly shown?: readonly string[];
  /** x86: the estimated syscall cost relative to the same CPU without PTI. */
  readonly estimate?: Estimate;
}

const N = 50;
/** Op classes that cost something on hardware (notes and hints do not). */
const COSTLY = /^(MSR|TLBI|DSB|isb|eret|str|mov-cr|read-cr|invlpg|invpcid|flush|TLB miss)/;
/** x86 classes review prints even when zero: CR3 writes, flushes by kind, INVLPG, INVPCID, user TLB misses (issue 4 §5). */
const X86_SHOWN = ['mov-cr3', 'flush', 'invlpg', 'invpcid', 'TLB miss (user)'] as const;

const WORKING_SET: Event[] = [{ k: 'access', cpu: 0, op: 'load', slot: 0 }, { k: 'access', cpu: 0, op: 'store', slot: 1 }];
const loop = (ev: (i: number) => Event): Event[] => Array.from({ length: N }, (_, i) => [ev(i), ...WORKING_SET]).flat();
const LOOPS = {
  perSyscall: loop(() => ({ k: 'syscall', cpu: 0, nr: 'getpid', slot: 0, prot: 'r', task: 0 })),
  // Alternate between the running process and the first runnable one.
  perSwitch: loop(() => ({ k: 'switch', cpu: 0, to: 2 })),
  perMprotect: loop((i) => ({ k: 'syscall', cpu: 0, nr: 'mprotect', slot: 0, prot: i % 2 ? 'rx' : 'r', task: 0 })),
};

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
  const [perSyscall, perSwitch, perMprotect] = [LOOPS.perSyscall, LOOPS.perSwitch, LOOPS.perMprotect].map((w) => perEvent(m, kernel, w));
  return { perSyscall, perSwitch, perMprotect, ...(m.arch === 'x86' ? { shown: X86_SHOWN } : {}) };
}

/** `measureCost` with the x86 estimate. */
export function measureWithEstimate(m: Mitigation): Cost {
  const c = measureCost(m);
  const e = estimate(m, c.perSyscall);
  return e ? { ...c, estimate: e } : c;
}

/** A class's group when printed at zero: CR3 writes, flushes and INVPCIDs come by kind. */
const group = (cls: string): string => cls.match(/^(mov-cr3|flush|invpcid)\b/)?.[1] ?? cls;

/** `2 MSR TTBR1_EL1, 3 ISB`; the `shown` groups first, as `0 invlpg` when absent. */
export function formatCost(c: Readonly<Record<string, number>>, shown: readonly string[] = []): string {
  const byName = ([a]: [string, number], [b]: [string, number]): number => a.localeCompare(b);
  const entries = Object.entries(c).sort(byName);
  const first = shown.flatMap((s) => { const es = entries.filter(([k]) => group(k) === s); return es.length ? es : [[s, 0] as [string, number]]; });
  const rest = entries.filter(([k]) => !shown.includes(group(k)));
  return [...first, ...rest].map(([k, v]) => `${v} ${k}`).join(', ');
}

/** The estimated syscall cost of an x86 mitigation relative to the same CPU without PTI (cost-table.ts). */
export interface Estimate {
  /** Cycles per syscall (and its working set) of the costed op classes, for the mitigation and for nopti. */
  readonly cycles: number;
  readonly baselineCycles: number;
  /** Estimated throughput relative to nopti. */
  readonly relative: number;
  /** The same, applied to the seed's 5.2M/s baseline. */
  readonly rate: number;
  /** Op classes per syscall (or in the baseline's) that have no cycle figure and so cost 0. */
  readonly uncosted: readonly string[];
}

export function estimate(m: Mitigation, perSyscall: Readonly<Record<string, number>>): Estimate | undefined {
  if (m.arch !== 'x86') return undefined;
  const o = resolveOptions(m) as X86Options;
  const baseline = perEvent(nopti, { pcid: o.pcid, invpcid: o.invpcid }, LOOPS.perSyscall);
  const relative = relativeRate(perSyscall, baseline);
  return {
    cycles: cycles(perSyscall), baselineCycles: cycles(baseline), relative, rate: relative * SEED.base,
    uncosted: [...new Set([...uncosted(perSyscall), ...uncosted(baseline)])].sort(),
  };
}
