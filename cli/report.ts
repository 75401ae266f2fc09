// Text reports: a verdict table per mitigation, and counterexamples as step
// tables in the kernel's own mnemonics (STYLE.md 9).

import pc from 'picocolors';
import type { Counterexample } from '../properties/runner/counterexample.ts';
import { formatCost } from '../properties/cost.ts';
import type { MitigationReview } from './review.ts';

const pad = (s: string, n: number): string => s + ' '.repeat(Math.max(0, n - s.length));

export function formatReview(r: MitigationReview): string {
  const m = r.mitigation;
  const out = [pc.bold(`${m.id}`) + `  ${m.title}`, `  source: ${m.source}`];
  if (r.error) return [...out, pc.red(`  mitigation error (${r.error.kind}): ${r.error.message}`)].join('\n');
  out.push(`  ${pad('invariant', 17)}${pad('claimed', 9)}${pad('verdict', 25)}runs`);
  for (const v of r.verdicts) {
    const verdict = v.holds ? (v.claimed ? pc.green('holds') : 'holds (not claimed)') : v.claimed ? pc.red('VIOLATED') : pc.yellow('violated (not claimed)');
    const plain = v.holds ? (v.claimed ? 'holds' : 'holds (not claimed)') : v.claimed ? 'VIOLATED' : 'violated (not claimed)';
    out.push(`  ${pad(v.invariant, 17)}${pad(v.claimed ? 'yes' : 'no', 9)}${verdict}${' '.repeat(Math.max(1, 25 - plain.length))}${v.runs}`);
  }
  const c = r.cost;
  out.push(`  cost per syscall (getpid): ${formatCost(c.perSyscall, c.shown) || 'none'}`);
  out.push(`  cost per context switch:   ${formatCost(c.perSwitch, c.shown) || 'none'}`);
  if (c.perMprotect) out.push(`  cost per mprotect (flush): ${formatCost(c.perMprotect, c.shown) || 'none'}`);
  if (c.shown) out.push('  (each row includes the user working set, 2 pages, touched after the return to user mode)');
  const e = c.estimate;
  if (e) out.push(`  estimated syscall rate:    ${e.relative.toFixed(2)} x nopti (${e.cycles.toFixed(0)} vs ${e.baselineCycles.toFixed(0)} cycles per syscall; ${(e.rate / 1e6).toFixed(1)}M/s at the seed's 5.2M/s baseline; properties/cost-table.ts)`);
  if (e?.uncosted.length) out.push(`  not costed (no public cycle figure, counted as 0): ${e.uncosted.join(', ')}`);
  for (const v of r.verdicts) {
    if (!v.counterexample) continue;
    out.push('', formatCounterexample(v.counterexample));
    if (v.file) out.push(`  ${v.written ? 'saved' : 'already stored'}: ${v.file}`);
  }
  return out.join('\n');
}

/** Boot steps of the violating CPU shown before a violation during boot: the code that did it (e.g. tramp_exit). */
const BOOT_CONTEXT = 12;

/**
 * The trace lines worth reading: everything from the first workload event on
 * (boot code that workload events interleave included), and, for a violation
 * during boot, the violating CPU's last boot steps up to it.
 */
function shownSteps(c: Counterexample): Counterexample['trace'] {
  const v = c.violation, first = c.trace.findIndex((t) => t.event >= 0);
  const boot = first < 0 ? c.trace : c.trace.slice(0, first), after = first < 0 ? [] : c.trace.slice(first);
  const at = boot.findIndex((t) => t.step === v.step && t.cpu === v.cpu);
  if (at < 0) return after;
  return [...boot.slice(0, at + 1).filter((t) => t.cpu === v.cpu).slice(-BOOT_CONTEXT), ...after];
}

/** The workload, then the step table from the first workload event, marking the violating step. */
export function formatCounterexample(c: Counterexample): string {
  const v = c.violation;
  const lines = [pc.bold(`  counterexample: ${c.mitigation} violates ${c.invariant}: ${v.rule}`)];
  lines.push(`  workload (${c.workload.length} events, seed ${c.seed}${c.path ? `, path ${c.path}` : ''}):`);
  c.workload.forEach((e, i) => lines.push(`    [${i}] ${JSON.stringify(e)}`));
  const shown = new Set(shownSteps(c));
  const hidden = c.trace.length - shown.size;
  lines.push(`  ${pad('step', 7)}${pad('cpu', 6)}${pad('event', 7)}op${hidden ? `   (${hidden} earlier boot steps not shown)` : ''}`);
  for (const t of c.trace) {
    if (!shown.has(t)) continue;
    const here = t.step === v.step && t.cpu === v.cpu;
    const row = `  ${pad(String(t.step), 7)}${pad(`cpu${t.cpu}`, 6)}${pad(t.event < 0 ? 'boot' : `[${t.event}]`, 7)}${t.text}`;
    lines.push(here ? pc.red(row + '   <== violation') : row);
  }
  if (!c.trace.some((t) => t.step === v.step && t.cpu === v.cpu)) lines.push(pc.red(`  ${pad(String(v.step), 7)}${pad('-', 6)}${pad('boot', 7)}the layout as booted, before any event   <== violation`));
  lines.push(`  witness: ${Object.entries(v.witness).map(([k, x]) => `${k}=${x}`).join(' ')}`);
  return lines.join('\n');
}
