// Worker entry: load TypeScript through tsx, then run the job module.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
