// Exhaustive exploration of a scenario: depth-first over every interleaving
// of the per-CPU op lists and, between any two steps and after the last,
// every hardware event the state allows (hardware.ts): a speculative fill
// of each VA the scenario names on each CPU, the eviction of any TLB or
// walk-cache entry, a pending TLBI finishing early, a pending table store
// becoming visible, an unsynchronised register write taking effect; at most
// `budget` of them per execution (default 1; each costs a
// factor of about five in states). States are merged by
// fingerprint (state.ts). Each final state (all ops done) gives an
// outcome, the results of the `access` ops in order; the first
// break-before-make or TLB-conflict violation on a path ends it.

import type { Machine } from '../../model/arch/arm64/machine.ts';
import type { Op } from '../../model/arch/arm64/ops.ts';
import { bbmViolation } from '../invariants/bbm.ts';
import { conflictViolation } from '../invariants/tlb-conflict.ts';
import type { Violation } from '../invariants/types.ts';
import { hardwareEvents } from './hardware.ts';
import type { Scenario } from './scenario.ts';
import { fingerprint } from './state.ts';

export interface Exploration {
  /** Reachable outcomes, with how many distinct final states (or violating steps) give each. */
  readonly outcomes: Map<string, number>;
  /** Distinct final states reached (every op done). */
  readonly executions: number;
  /** Distinct states visited. */
  readonly states: number;
  /** One schedule per violated rule: the steps, as text. */
  readonly witnesses: Map<string, string[]>;
  readonly ms: number;
}

const opText = (c: number, op: Op): string =>
  `cpu${c} ${op.op}${op.op === 'tlbi' ? ` ${op.type}${op.is ? 'IS' : ''}${op.asid === undefined ? '' : ` asid=${op.asid}`}` : op.op === 'dsb' ? ` ${op.option}` : ''}`;

/** The BBM and TLB-conflict verdicts on the step just taken. */
function judge(m: Machine): Violation | undefined {
  for (const e of m.effects) if (e.kind === 'store') { const v = bbmViolation(m, e); if (v) return v; }
  return conflictViolation(m.effects);
}

export function explore(s: Scenario): Exploration {
  const t0 = performance.now();
  const outcomes = new Map<string, number>(), witnesses = new Map<string, string[]>(), visited = new Set<string>();
  const vas = [...new Set([...s.cpus.flat().flatMap((op) => ('va' in op && op.va !== undefined ? [op.va] : [])), ...(s.vas ?? [])])];
  let executions = 0;
  const path: string[] = [];
  const record = (outcome: string): void => {
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (outcome.startsWith('violation') && !witnesses.has(outcome)) witnesses.set(outcome, [...path]);
  };

  /** Take one step from `m` (a fresh clone): judge it, then go on from the new state. */
  const step = (next: Machine, text: string, pcs: readonly number[], seen: readonly string[], budget: number): void => {
    path.push(text);
    const v = judge(next);
    if (v) record(`violation: ${v.invariant} (${v.rule})`);
    else visit(next, pcs, seen, budget);
    path.pop();
  };

  const visit = (m: Machine, pcs: readonly number[], seen: readonly string[], budget: number): void => {
    const key = `${pcs.join(',')}|${budget}|${seen.join(';')}|${fingerprint(m)}`;
    if (visited.has(key)) return;
    visited.add(key);
    let running = false;
    for (let c = 0; c < s.cpus.length; c++) {
      if (pcs[c] >= s.cpus[c].length) continue;
      running = true;
      const op = s.cpus[c][pcs[c]], next = m.clone();
      next.effects = [];
      const r = next.exec(next.cpus[c], op) as { pa?: number; fault?: string } | undefined;
      const obs = op.op === 'access' ? [...seen, `cpu${c} ${op.sym}: ${r?.fault ? `${r.fault} fault` : `0x${r!.pa!.toString(16)} (${next.mem.frame(r!.pa!)?.name ?? 'unnamed'})`}`] : seen;
      step(next, opText(c, op), pcs.map((p, i) => (i === c ? p + 1 : p)), obs, budget);
    }
    if (!running) { executions++; record(seen.join('; ') || 'no observations'); }
    if (budget > 0) for (const ev of hardwareEvents(m, vas)) step(ev.machine, `[hw] ${ev.text}`, pcs, seen, budget - 1);
  };

  visit(s.init(), s.cpus.map(() => 0), [], s.budget ?? 1);
  return { outcomes, executions, states: visited.size, witnesses, ms: performance.now() - t0 };
}
