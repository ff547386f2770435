// The worker side of parallel line integrity (see integrity-pool.ts): checks batches of
// lines, each canonical and hashing to the event_hash it carries, and reports through
// shared memory how many batches are done and whether any line failed. It decides
// nothing else.

import { parentPort, workerData } from 'node:worker_threads';
import { lineIntact } from './encode.js';
import { DONE, FAILED, type LineBatch } from './integrity-pool.js';

const state = new Int32Array(workerData as SharedArrayBuffer);

parentPort?.on('message', ({ bytes, ends }: LineBatch) => {
  let start = 0;
  for (const end of ends) {
    if (!lineIntact(bytes.subarray(start, end))) Atomics.store(state, FAILED, 1);
    start = end;
  }
  Atomics.add(state, DONE, 1);
  Atomics.notify(state, DONE);
});
