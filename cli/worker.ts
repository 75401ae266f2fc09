// Runs reviews and replays in a worker thread, so that the main thread can
// stop a hook that loops forever without yielding (which no step budget can
// see). Takes one job per message; posts a heartbeat after every simulated
// workload of a review, then the result.

import { parentPort } from 'node:worker_threads';
import { load } from '../properties/runner/counterexample.ts';
import { resolveMitigation } from '../properties/runner/module.ts';
import { replay, report } from '../properties/runner/replay.ts';
import { reviewMitigation, type ReviewOptions } from './review.ts';

export type Job =
  | {
    readonly kind: 'review';
    /** Bundled id or module path. */
    readonly spec: string;
    readonly options: Omit<ReviewOptions, 'onRun' | 'modulePath'> & { readonly modulePath?: string };
  }
  | { readonly kind: 'replay'; /** Counterexample file. */ readonly spec: string };

let last = 0;
const beat = (): void => {
  const now = Date.now();
  if (now - last > 100) { last = now; parentPort!.postMessage({ kind: 'beat' }); }
};

async function run(job: Job) {
  if (job.kind === 'replay') {
    const c = load(job.spec);
    const r = await replay(c).catch((e: Error) => { throw new Error(`${job.spec}: ${e.message}`); });
    return { kind: 'replayed', replay: report(r) } as const;
  }
  const m = await resolveMitigation(job.spec);
  const r = reviewMitigation(m, { ...job.options, modulePath: () => job.options.modulePath, onRun: beat });
  return { kind: 'done', review: { ...r, mitigation: { id: m.id, title: m.title, source: m.source, claims: m.claims } } } as const;
}

parentPort!.on('message', async (job: Job) => {
  try {
    parentPort!.postMessage(await run(job));
  } catch (e) {
    parentPort!.postMessage({ kind: 'bad-input', message: (e as Error).message.split('\n')[0] });
  }
});
