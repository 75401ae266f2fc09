// Run reviews and replays in worker threads, one per core, each watched: a worker that
// makes no progress for `stallMs` is stopped and reported as a hook that never
// returns (ISOCHECK_STALL_MS overrides the default 20 s), and a fresh worker
// takes the next job. Workers are kept (unreferenced while idle, so they never
// hold the process open) and serve job after job: the sources are loaded once
// per core, not once per mitigation or per review.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Job } from './worker.ts';
import type { MitigationReview } from './review.ts';
import type { ReplayReport } from '../properties/runner/replay.ts';

export type Outcome =
  | { readonly kind: 'done'; readonly review: MitigationReview }
  | { readonly kind: 'replayed'; readonly replay: ReplayReport }
  | { readonly kind: 'bad-input'; readonly message: string };
type Message = Outcome | { readonly kind: 'beat' };

class Lane {
  private worker?: Worker;

  run(job: Job, stallMs: number): Promise<Outcome> {
    const w = (this.worker ??= new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { entry: new URL('./worker.ts', import.meta.url).href } }));
    w.ref();
    return new Promise((resolve) => {
      let last = Date.now();
      const finish = (o: Outcome, keep: boolean) => {
        clearInterval(timer);
        w.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (keep) w.unref();
        else this.close();
        resolve(o);
      };
      const timer = setInterval(() => {
        if (Date.now() - last > stallMs) finish({ kind: 'bad-input', message: `${job.spec}: a hook never returned (no progress for ${stallMs / 1000} s; hooks must yield ops)` }, false);
      }, 250);
      const onMessage = (m: Message) => { last = Date.now(); if (m.kind !== 'beat') finish(m, true); };
      const onError = (e: Error) => finish({ kind: 'bad-input', message: `${job.spec}: ${e.message.split('\n')[0]}` }, false);
      const onExit = (code: number) => finish({ kind: 'bad-input', message: `${job.spec}: review stopped (exit ${code})` }, false);
      w.on('message', onMessage).on('error', onError).on('exit', onExit);
      w.postMessage(job);
    });
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

const idle: Lane[] = [];

/** Run each job in a worker, in parallel up to the number of cores; results in input order. */
export async function runAll(jobs: Job[], stallMs = Number(process.env.ISOCHECK_STALL_MS ?? 20_000)): Promise<Outcome[]> {
  const out: Outcome[] = new Array(jobs.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(jobs.length, availableParallelism()) }, async () => {
    const lane = idle.pop() ?? new Lane();
    while (next < jobs.length) { const i = next++; out[i] = await lane.run(jobs[i], stallMs); }
    idle.push(lane);
  });
  await Promise.all(lanes);
  return out;
}
