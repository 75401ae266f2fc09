// Run reviews in worker threads, at most one per core, each watched: a
// worker that makes no progress for `stallMs` is stopped and reported as a
// hook that never returns (ISOCHECK_STALL_MS overrides the default 20 s).

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Job } from './worker.ts';
import type { MitigationReview } from './review.ts';

export type Outcome = { readonly kind: 'done'; readonly review: MitigationReview } | { readonly kind: 'bad-input'; readonly message: string };

function runOne(job: Omit<Job, 'entry'>, stallMs: number): Promise<Outcome> {
  const entry = new URL('./worker.ts', import.meta.url).href;
  const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { ...job, entry } });
  return new Promise((resolve) => {
    let last = Date.now(), settled = false;
    const finish = (o: Outcome) => { if (settled) return; settled = true; clearInterval(timer); void w.terminate(); resolve(o); };
    const timer = setInterval(() => {
      if (Date.now() - last > stallMs) finish({ kind: 'bad-input', message: `${job.spec}: a hook never returned (no progress for ${stallMs / 1000} s; hooks must yield ops)` });
    }, 250);
    w.on('message', (m: Outcome | { kind: 'beat' }) => { last = Date.now(); if (m.kind !== 'beat') finish(m); });
    w.on('error', (e) => finish({ kind: 'bad-input', message: `${job.spec}: ${e.message.split('\n')[0]}` }));
    w.on('exit', (code) => finish({ kind: 'bad-input', message: `${job.spec}: review stopped (exit ${code})` }));
  });
}

/** Review each spec in its own worker, in parallel up to the number of cores; results in input order. */
export async function reviewAll(jobs: Omit<Job, 'entry'>[], stallMs = Number(process.env.ISOCHECK_STALL_MS ?? 20_000)): Promise<Outcome[]> {
  const out: Outcome[] = new Array(jobs.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(jobs.length, availableParallelism()) }, async () => {
    while (next < jobs.length) { const i = next++; out[i] = await runOne(jobs[i], stallMs); }
  });
  await Promise.all(lanes);
  return out;
}
