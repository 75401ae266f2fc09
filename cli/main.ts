// The `isocheck` command: review, replay, list. Exit codes: 0 when every
// claimed invariant holds, 1 when one is violated, 2 for bad input (one line
// on stderr naming the problem).

import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { BUNDLED, REFERENCE } from '../model/mitigations/index.ts';
import { fcSeed } from '../properties/seed.ts';
import { formatCounterexample, formatReview } from './report.ts';
import { DEFAULT_RUNS, exitCode } from './review.ts';
import { runAll } from './sandbox.ts';
import { byId } from '../model/mitigations/index.ts';
import { toJson } from './json.ts';

/** Bad input: reported in one line, exit code 2. */
class BadInput extends Error {}

const int = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

/** Bundled ids, or module files (loaded in the review's worker, so a module that hangs cannot hang us). */
function resolveAll(modules: string[]): { spec: string; path?: string }[] {
  if (modules.length === 0) return REFERENCE.map((b) => ({ spec: b.mitigation.id }));
  return modules.map((spec) => {
    if (byId(spec)) return { spec };
    if (!existsSync(spec)) throw new BadInput(`${spec}: no such module or bundled mitigation`);
    return { spec, path: relative(process.cwd(), spec) };
  });
}

export function program(): Command {
  const p = new Command('isocheck')
    .description('Check kernel isolation mitigations against an executable model of address spaces')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  p.command('review [modules...]')
    .description('review mitigations (bundled ids or module files); default: the bundled reference mitigations')
    .option('--json', 'machine-readable output')
    .option('--seed <n>', 'fast-check seed (default: FC_SEED or fixed)', int('--seed', -(2 ** 31)))
    .option('--runs <n>', `workloads per invariant (default: ${DEFAULT_RUNS.overview} for the bundled overview, ${DEFAULT_RUNS.named} for named modules)`, int('--runs', 1))
    .option('--save [dir]', 'save counterexamples (default dir: counterexamples)')
    .action(async (modules: string[], o: { json?: boolean; seed?: number; runs?: number; save?: string | boolean }) => {
      const targets = resolveAll(modules);
      const saveDir = o.save === undefined || o.save === false ? undefined : o.save === true ? 'counterexamples' : o.save;
      const seed = o.seed ?? fcSeed();
      const runs = o.runs ?? (modules.length ? DEFAULT_RUNS.named : DEFAULT_RUNS.overview);
      const outcomes = await runAll(targets.map((t) => ({ kind: 'review' as const, spec: t.path ?? t.spec, options: { runs, seed, save: saveDir, modulePath: t.path } })));
      const bad = outcomes.find((x) => x.kind === 'bad-input');
      if (bad?.kind === 'bad-input') throw new BadInput(bad.message);
      const reviews = outcomes.map((x) => (x as Extract<typeof x, { kind: 'done' }>).review);
      if (o.json) process.stdout.write(JSON.stringify(toJson(reviews), null, 2) + '\n');
      else process.stdout.write(reviews.map(formatReview).join('\n\n') + '\n');
      const err = reviews.find((r) => r.error);
      if (err) process.stderr.write(`isocheck: ${err.mitigation.id}: mitigation error (${err.error!.kind}): ${err.error!.message}\n`);
      process.exitCode = exitCode(reviews);
    });

  p.command('replay <file>')
    .description('replay a stored counterexample against its mitigation and its correct twin')
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: { json?: boolean }) => {
      const [out] = await runAll([{ kind: 'replay', spec: file }]);
      if (out.kind === 'bad-input') throw new BadInput(out.message);
      if (out.kind !== 'replayed') throw new Error(`unexpected worker result ${out.kind}`);
      const r = out.replay, c = r.counterexample;
      if (r.result.error) throw new BadInput(`${c.mitigation}: mitigation error (${r.result.error.kind}): ${r.result.error.message}`);
      if (o.json) {
        const twin = r.twin ? { id: r.twin.id, holds: r.twin.holds, violation: r.twin.violation ?? null } : null;
        process.stdout.write(JSON.stringify({ file, mitigation: c.mitigation, invariant: c.invariant, reproduced: r.reproduced, violation: r.result.violation ?? null, twin }, null, 2) + '\n');
      } else {
        const fresh = r.result.violation ? { ...c, violation: r.result.violation, trace: [...r.result.trace] } : c;
        process.stdout.write(formatCounterexample(fresh) + '\n');
        process.stdout.write(`${c.mitigation}: ${r.reproduced ? `still violates ${c.invariant}` : `no longer violates ${c.invariant}`}\n`);
        if (r.twin) process.stdout.write(`${r.twin.id} (twin): ${r.twin.holds ? 'holds every claimed invariant on this workload' : `FAILS: ${r.twin.violation?.invariant ?? r.twin.error?.message}`}\n`);
      }
      process.exitCode = r.reproduced ? 1 : 0;
    });

  p.command('list')
    .description('list the bundled mitigations')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      const rows = BUNDLED.map(({ mitigation: m, path }) => ({
        id: m.id, path, title: m.title, claims: m.claims, ...(m.expect ? { expectedViolation: m.expect.violates[0], violates: m.expect.violates, twin: m.expect.twin } : {}),
      }));
      if (o.json) { process.stdout.write(JSON.stringify(rows, null, 2) + '\n'); return; }
      for (const r of rows) {
        process.stdout.write(`${r.id}\n  path: ${r.path}\n  ${r.title}\n  claims: ${r.claims.join(', ')}\n`);
        if ('expectedViolation' in r) process.stdout.write(`  expected to violate: ${r.violates!.join(', ')} (twin ${r.twin})\n`);
      }
    });
  return p;
}

/** Run the command line `argv`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await program().parseAsync(argv, { from: 'user' });
    const code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const msg = (e as Error).message.split('\n')[0];
    process.stderr.write(`isocheck: ${msg}\n`);
    return 2;
  }
}
