// `isocheck review`: every invariant checked for each mitigation, a verdict
// per invariant, and the shrunk counterexample of each violation.

import { ARCH_INVARIANTS, INVARIANTS, type InvariantId } from '../model/claims.ts';
import type { Mitigation } from '../model/mitigations/types.ts';
import { SharedRuns, checkInvariant, type CheckOutcome } from '../properties/check.ts';
import { measureWithEstimate, type Cost } from '../properties/cost.ts';
import { build, save, type Counterexample } from '../properties/runner/counterexample.ts';
import type { MitigationError } from '../properties/runner/simulate.ts';

export interface Verdict {
  readonly invariant: InvariantId;
  readonly claimed: boolean;
  readonly holds: boolean;
  readonly runs: number;
  readonly counterexample?: Counterexample;
  /** Where it was saved, with --save, and whether this run wrote it (false: already stored). */
  readonly file?: string;
  readonly written?: boolean;
}

/** What a report needs of a mitigation (a worker can send this back; hooks cannot be cloned). */
export type MitigationInfo = Pick<Mitigation, 'id' | 'title' | 'source' | 'claims'>;

export interface MitigationReview {
  readonly mitigation: MitigationInfo;
  readonly verdicts: readonly Verdict[];
  readonly cost: Cost;
  /** A hook that threw, never ended or yielded a bad op: bad input. */
  readonly error?: MitigationError;
}

/**
 * Workloads per invariant when `--runs` is not given: a quick overview of the
 * bundled reference mitigations, and the gate's budget (properties/broken-suite.ts)
 * for modules named on the command line, so that `review <broken module>`
 * finds what the gate finds.
 */
export const DEFAULT_RUNS = { overview: 200, named: 12_000 } as const;

export interface ReviewOptions {
  readonly runs: number;
  readonly seed: number;
  /** Directory to save counterexamples in, if any. */
  readonly save?: string;
  /** Module path, recorded in saved counterexamples of modules that are not bundled. */
  readonly modulePath?: (m: Mitigation) => string | undefined;
  /** Called after every simulated workload (a heartbeat). */
  readonly onRun?: () => void;
}

export function reviewMitigation(m: Mitigation, o: ReviewOptions): MitigationReview {
  const verdicts: Verdict[] = [];
  const shared = new SharedRuns(m, ARCH_INVARIANTS[m.arch]);
  for (const invariant of ARCH_INVARIANTS[m.arch]) {
    const out: CheckOutcome = checkInvariant(m, invariant, { numRuns: o.runs, seed: o.seed, onRun: o.onRun, shared });
    const r = out.failure?.result;
    if (r?.error) return { mitigation: info(m), verdicts, cost: { perSyscall: {}, perSwitch: {} }, error: r.error };
    const claimed = m.claims.includes(invariant);
    if (!out.failure || !r?.violation) { verdicts.push({ invariant, claimed, holds: true, runs: out.runs }); continue; }
    const cx = build({
      arch: m.arch, mitigation: m.id, module: o.modulePath?.(m), twin: m.expect?.twin, invariant, options: r.options, seed: out.failure.seed,
      path: out.failure.path, workload: out.failure.workload, violation: r.violation, trace: r.trace,
    });
    const stored = o.save ? save(o.save, cx) : undefined;
    verdicts.push({ invariant, claimed, holds: false, runs: out.runs, counterexample: cx, file: stored?.file, written: stored?.written });
  }
  return { mitigation: info(m), verdicts, cost: measureWithEstimate(m) };
}

/** Exit code: 2 for a mitigation error, 1 if a claimed invariant fails, else 0. */
export function exitCode(reviews: readonly MitigationReview[]): number {
  if (reviews.some((r) => r.error)) return 2;
  return reviews.some((r) => r.verdicts.some((v) => v.claimed && !v.holds)) ? 1 : 0;
}

const info = (m: Mitigation): MitigationInfo => ({ id: m.id, title: m.title, source: m.source, claims: m.claims });
