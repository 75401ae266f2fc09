// Exhaustive exploration of a scenario: depth-first over every interleaving
// of the per-CPU op lists and every use of the hardware choices, cloning the
// machine at each branch. Each complete execution yields an outcome: the
// results of the `access` ops in order, or the first break-before-make or
// TLB-conflict violation met on the way.

import type { Machine } from '../../model/arch/arm64/machine.ts';
import { bbmViolation } from '../invariants/bbm.ts';
import { conflictViolation } from '../invariants/tlb-conflict.ts';
import type { Violation } from '../invariants/types.ts';
import type { Choice, Scenario } from './scenario.ts';

export interface Exploration {
  /** Reachable outcomes, with how many executions reach each. */
  readonly outcomes: Map<string, number>;
  /** Complete executions explored. */
  readonly executions: number;
  /** One schedule per violated rule: the steps, as text. */
  readonly witnesses: Map<string, string[]>;
  readonly ms: number;
}

const describeChoice = (c: Choice): string => `[hw] cpu${c.cpu} ${c.k}${c.k === 'fill' ? ` 0x${c.va.toString(16)}` : ''}`;

export function explore(s: Scenario): Exploration {
  const t0 = performance.now();
  const outcomes = new Map<string, number>(), witnesses = new Map<string, string[]>();
  let executions = 0;
  const done = (outcome: string, path: string[]) => {
    executions++;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (outcome.startsWith('violation') && !witnesses.has(outcome)) witnesses.set(outcome, path);
  };
  const judge = (m: Machine): Violation | undefined => {
    for (const e of m.effects) if (e.kind === 'store') { const v = bbmViolation(m, e); if (v) return v; }
    return conflictViolation(m.effects);
  };

  const visit = (m: Machine, pcs: number[], used: boolean[], seen: string[], path: string[]): void => {
    let progressed = false;
    for (let c = 0; c < s.cpus.length; c++) {
      if (pcs[c] >= s.cpus[c].length) continue;
      progressed = true;
      const op = s.cpus[c][pcs[c]];
      const next = m.clone();
      next.effects = [];
      const r = next.exec(next.cpus[c], op) as { pa?: number; fault?: string } | undefined;
      const step = [...path, `cpu${c} ${op.op}${op.op === 'tlbi' ? ` ${op.type}${op.is ? 'IS' : ''}` : op.op === 'dsb' ? ` ${op.option}` : ''}`];
      const v = judge(next);
      if (v) { done(`violation: ${v.invariant} (${v.rule})`, step); continue; }
      const obs = op.op === 'access' ? [...seen, `cpu${c} ${op.sym}: ${r?.fault ? `${r.fault} fault` : `0x${r!.pa!.toString(16)}`}`] : seen;
      visit(next, pcs.map((p, i) => (i === c ? p + 1 : p)), used, obs, step);
    }
    if (!progressed) { done(seen.join('; ') || 'no observations', path); return; }
    s.choices.forEach((ch, i) => {
      if (used[i]) return;
      const next = m.clone();
      next.effects = [];
      const cpu = next.cpus[ch.cpu];
      const acted = ch.k === 'fill' ? (next.speculate(cpu, ch.va), next.effects.length > 0)
        : ch.k === 'land' ? next.land(cpu) : ch.k === 'drain' ? next.drain(cpu) : cpu.takeEffect(0) !== undefined;
      if (!acted) return;
      const step = [...path, describeChoice(ch)];
      const v = judge(next);
      if (v) { done(`violation: ${v.invariant} (${v.rule})`, step); return; }
      visit(next, pcs, used.map((u, j) => u || j === i), seen, step);
    });
  };

  visit(s.init(), s.cpus.map(() => 0), s.choices.map(() => false), [], []);
  return { outcomes, executions, witnesses, ms: performance.now() - t0 };
}
