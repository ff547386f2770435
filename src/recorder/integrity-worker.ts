// The worker side of parallel line integrity (see integrity-pool.ts): checks batches of
// lines, each canonical and hashing to the event_hash it carries, and reports through
// shared memory how many batches are done and whether any line failed. It decides
// nothing else. It blocks waiting for the next batch until the pool ends it.

import { workerData } from 'node:worker_threads';
import { lineIntact } from './encode.js';
import {
  DONE,
  FAILED,
  LINES,
  POSTED,
  type SharedLines,
  SLOT_BYTES,
  SLOT_LINES,
  SLOTS,
} from './integrity-pool.js';

const shared = workerData as SharedLines;
const state = new Int32Array(shared.state);
const bytes = new Uint8Array(shared.bytes);
const ends = new Int32Array(shared.ends);

function check(slot: number): void {
  const base = slot * SLOT_BYTES;
  const lines = state[LINES + slot] as number;
  let start = 0;
  for (let k = 0; k < lines; k++) {
    const end = ends[slot * SLOT_LINES + k] as number;
    if (!lineIntact(bytes.subarray(base + start, base + end))) Atomics.store(state, FAILED, 1);
    start = end;
  }
}

let done = 0;
for (;;) {
  Atomics.wait(state, POSTED, done);
  const posted = Atomics.load(state, POSTED);
  for (; done < posted; done++) {
    check(done % SLOTS);
    Atomics.store(state, DONE, done + 1);
    Atomics.notify(state, DONE);
  }
}
