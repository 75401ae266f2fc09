// Runs reviews in a worker thread, so that the main thread can stop a hook
// that loops forever without yielding (which no step budget can see). Takes
// one job per message; posts a heartbeat after every simulated workload, then
// the result.

import { parentPort } from 'node:worker_threads';
import { resolveMitigation } from '../properties/runner/module.ts';
import { reviewMitigation, type ReviewOptions } from './review.ts';

export interface Job {
  /** Bundled id or module path. */
  readonly spec: string;
  readonly options: Omit<ReviewOptions, 'onRun' | 'modulePath'> & { readonly modulePath?: string };
}

let last = 0;
const beat = (): void => {
  const now = Date.now();
  if (now - last > 100) { last = now; parentPort!.postMessage({ kind: 'beat' }); }
};

parentPort!.on('message', async (job: Job) => {
  try {
    const m = await resolveMitigation(job.spec);
    const r = reviewMitigation(m, { ...job.options, modulePath: () => job.options.modulePath, onRun: beat });
    parentPort!.postMessage({ kind: 'done', review: { ...r, mitigation: { id: m.id, title: m.title, source: m.source, claims: m.claims } } });
  } catch (e) {
    parentPort!.postMessage({ kind: 'bad-input', message: (e as Error).message.split('\n')[0] });
  }
});
