// Replay a stored counterexample: the mitigation must still violate the same
// invariant, and its correct twin must hold everything it claims on the
// same workload (STYLE.md 10, good and bad fixtures in pairs).

import type { Mitigation } from '../../model/mitigations/types.ts';
import type { Counterexample } from './counterexample.ts';
import { resolveMitigation } from './module.ts';
import { simulate, type Located, type MitigationError, type SimResult, type TraceLine } from './simulate.ts';

export interface Replay {
  readonly counterexample: Counterexample;
  readonly mitigation: Mitigation;
  /** The mitigation on the stored workload, checking the stored invariant. */
  readonly result: SimResult;
  /** True when it still fails with the same invariant. */
  readonly reproduced: boolean;
  /** The twin on the same workload, checking all it claims. */
  readonly twin?: { readonly mitigation: Mitigation; readonly result: SimResult; readonly holds: boolean };
}

export async function replay(c: Counterexample): Promise<Replay> {
  const mitigation = await resolveMitigation(c.module ?? c.mitigation);
  if (mitigation.id !== c.mitigation) throw new Error(`counterexample is for ${c.mitigation}, but ${c.module} provides ${mitigation.id}`);
  if (mitigation.arch !== c.arch) throw new Error(`counterexample is for ${c.arch}, but ${mitigation.id} is an ${mitigation.arch} mitigation`);
  const result = simulate(c.workload, mitigation, { invariants: [c.invariant], kernel: c.options, trace: true });
  const reproduced = result.violation?.invariant === c.invariant;
  if (!c.twin) return { counterexample: c, mitigation, result, reproduced };
  const twin = await resolveMitigation(c.twin);
  if (twin.arch !== c.arch) throw new Error(`twin ${twin.id} is an ${twin.arch} mitigation, but the counterexample is for ${c.arch}`);
  const t = simulate(c.workload, twin, { invariants: twin.claims, kernel: c.options, trace: true });
  return { counterexample: c, mitigation, result, reproduced, twin: { mitigation: twin, result: t, holds: !t.violation && !t.error } };
}

/** A replay as plain data (what a worker thread can send back: no hooks, no kernel). */
export interface ReplayReport {
  readonly counterexample: Counterexample;
  readonly reproduced: boolean;
  readonly result: { readonly violation?: Located; readonly error?: MitigationError; readonly trace: readonly TraceLine[] };
  readonly twin?: { readonly id: string; readonly holds: boolean; readonly violation?: Located; readonly error?: MitigationError };
}

export const report = (r: Replay): ReplayReport => ({
  counterexample: r.counterexample,
  reproduced: r.reproduced,
  result: { violation: r.result.violation, error: r.result.error, trace: r.result.trace },
  ...(r.twin ? { twin: { id: r.twin.mitigation.id, holds: r.twin.holds, violation: r.twin.result.violation, error: r.twin.result.error } } : {}),
});
