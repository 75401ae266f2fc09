// Runs one review in a worker thread, so that the main thread can stop a
// hook that loops forever without yielding (which no step budget can see).
// Posts a heartbeat after every simulated workload, then the result.

import { parentPort, workerData } from 'node:worker_threads';
import { resolveMitigation } from '../properties/runner/module.ts';
import { reviewMitigation, type ReviewOptions } from './review.ts';

export interface Job {
  readonly entry: string;
  /** Bundled id or module path. */
  readonly spec: string;
  readonly options: Omit<ReviewOptions, 'onRun' | 'modulePath'> & { readonly modulePath?: string };
}

const job = workerData as Job;
let last = 0;
const beat = (): void => {
  const now = Date.now();
  if (now - last > 100) { last = now; parentPort!.postMessage({ kind: 'beat' }); }
};
try {
  const m = await resolveMitigation(job.spec);
  const r = reviewMitigation(m, { ...job.options, modulePath: () => job.options.modulePath, onRun: beat });
  parentPort!.postMessage({ kind: 'done', review: { ...r, mitigation: { id: m.id, title: m.title, source: m.source, claims: m.claims } } });
} catch (e) {
  parentPort!.postMessage({ kind: 'bad-input', message: (e as Error).message.split('\n')[0] });
}
