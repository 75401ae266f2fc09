// Property checks shared by the tests, the CLI and the benchmark: run one
// mitigation against one invariant over generated workloads, and either
// return the shrunk counterexample or the statistics of interesting cases.

import fc from 'fast-check';
import type { InvariantId } from '../model/claims.ts';
import type { Event } from '../model/kernel/events.ts';
import type { Mitigation, OptionOverrides } from '../model/mitigations/types.ts';
import { zeroStats, type Stats } from '../model/kernel/kernel.ts';
import { simulate, type SimResult } from './runner/simulate.ts';
import { workload } from './workloads/workload.ts';

export interface CheckOptions {
  readonly numRuns: number;
  readonly seed?: number;
  readonly kernel?: OptionOverrides;
  /** Simulations shared with the other invariants of the same mitigation and kernel. */
  readonly shared?: SharedRuns;
  /** Called after every simulated workload. */
  readonly onRun?: () => void;
}

export interface CheckOutcome {
  readonly mitigation: string;
  readonly invariant: InvariantId;
  /** Runs until the first failure, or all runs when none failed. */
  readonly runs: number;
  /** The shrunk workload and its simulation, when the invariant failed. */
  readonly failure?: { readonly workload: Event[]; readonly result: SimResult; readonly seed: number; readonly path: string };
  /** Interesting cases summed over the runs. */
  readonly stats: Stats;
}


/** One run as one invariant's property sees it: its violation, a mitigation error, the interesting cases. */
type Verdict = Pick<SimResult, 'violation' | 'error' | 'stats'>;

/** Does the workload break `invariant`? (A mitigation error counts as a failure too.) */
const holds = (r: Verdict): boolean => !r.violation && !r.error;

/**
 * The properties of one mitigation, one per invariant, draw the same
 * workloads (same seed, same generator). This simulates each workload once,
 * checking all their invariants (`firstOfEach`), and answers each property
 * with the first violation of its own invariant: what a simulation checking
 * that invariant alone would report (properties/runner/shared.test.ts).
 */
export class SharedRuns {
  private readonly memo = new Map<string, SimResult>();
  constructor(readonly m: Mitigation, readonly invariants: readonly InvariantId[], readonly kernel?: OptionOverrides) {}

  /** Throws unless these runs are of `m` under `kernel` and include `invariant` (a mix-up would answer for the wrong machine). */
  checkServes(m: Mitigation, invariant: InvariantId, kernel?: OptionOverrides): void {
    if (m !== this.m || kernel !== this.kernel || !this.invariants.includes(invariant)) throw new Error(`shared runs of ${this.m.id} do not serve ${m.id} ${invariant}`);
  }

  verdict(w: readonly Event[], invariant: InvariantId): Verdict {
    const key = JSON.stringify(w);
    let r = this.memo.get(key);
    if (!r) {
      if (this.memo.size >= 20_000) this.memo.clear();
      r = simulate(w, this.m, { invariants: this.invariants, kernel: this.kernel, firstOfEach: true });
      // Only the verdicts are kept: not the kernel or the trace.
      this.memo.set(key, { ...r, kernel: undefined });
    }
    const first = r.firsts[invariant];
    return first ? { violation: first.violation, stats: first.stats } : { error: r.error, stats: r.stats };
  }
}

export function checkInvariant(m: Mitigation, invariant: InvariantId, opts: CheckOptions): CheckOutcome {
  const stats = zeroStats();
  const ncpus = { ...opts.kernel, ...m.options }.ncpus ?? 2;
  const { shared } = opts;
  shared?.checkServes(m, invariant, opts.kernel);
  const run = (w: Event[]): Verdict => shared?.verdict(w, invariant) ?? simulate(w, m, { invariants: [invariant], kernel: opts.kernel });
  const prop = fc.property(workload({ arch: m.arch, ncpus, maxEvents: 40 }), (w) => {
    const r = run(w);
    for (const key of Object.keys(stats) as (keyof Stats)[]) stats[key] += r.stats[key];
    opts.onRun?.();
    return holds(r);
  });
  const details = fc.check(prop, { numRuns: opts.numRuns, ...(opts.seed === undefined ? {} : { seed: opts.seed }) });
  const base = { mitigation: m.id, invariant, runs: details.numRuns, stats };
  if (!details.failed || !details.counterexample) return base;
  const w = minimise(details.counterexample[0], (x) => !holds(run(x)));
  return { ...base, failure: { workload: w, result: simulate(w, m, { invariants: [invariant], kernel: opts.kernel, trace: true }), seed: details.seed, path: details.counterexamplePath ?? '' } };
}

/**
 * fast-check's array shrinker can stop at a local minimum that still holds
 * an event the failure does not need; finish with one-at-a-time deletion
 * (1-minimal in the sense of delta debugging) while `fails` stays true.
 */
export function minimise(w: Event[], fails: (w: Event[]) => boolean): Event[] {
  let cur = w;
  for (let i = cur.length - 1; i >= 0; i--) {
    const without = [...cur.slice(0, i), ...cur.slice(i + 1)];
    if (fails(without)) cur = without;
  }
  return cur;
}
