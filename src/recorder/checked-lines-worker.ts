// The worker side of checked-lines.ts: reads the log into the shared slots in turn, splits
// each slot into whole lines, checks every line (canonical, and hashing to the event_hash
// it carries) and publishes the slot. It gives up, leaving the log to the exact pass, on
// anything the fast pass does not handle: a line longer than a slot, a last line without
// its newline, an error. It decides nothing else.

import { closeSync, openSync, readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import {
  ENDED,
  GAVE_UP,
  type SharedLines,
  SLOT_BYTES,
  SLOT_LINES,
  SLOTS,
  STATE,
} from './checked-lines.js';
import { lineIntact } from './encode.js';

const shared = workerData as SharedLines;
const state = new Int32Array(shared.state);
const bytes = Buffer.from(shared.bytes);
const ends = new Int32Array(shared.ends);
/** The start of a line cut by the end of a slot, carried to the start of the next. */
const carry = Buffer.allocUnsafe(SLOT_BYTES);

function publish(status?: number): void {
  if (status !== undefined) Atomics.store(state, STATE.status, status);
  Atomics.add(state, STATE.events, 1);
  Atomics.notify(state, STATE.events);
}

/** Wait until the slot for the `produced`th batch is free (the main thread is done with it). */
function waitForSlot(produced: number): void {
  for (;;) {
    const consumed = Atomics.load(state, STATE.consumed);
    if (produced - consumed < SLOTS) return;
    Atomics.wait(state, STATE.consumed, consumed);
  }
}

/**
 * Split and check the first `filled` bytes of a slot: its whole lines are recorded and
 * the bytes after the last of them are carried over. Returns how many bytes are carried,
 * or -1 if the slot holds no whole line although it is full (a line longer than a slot).
 */
function checkSlot(slot: number, filled: number): number {
  const base = slot * SLOT_BYTES;
  const view = bytes.subarray(base, base + filled);
  let start = 0;
  let count = 0;
  while (count < SLOT_LINES) {
    const end = view.indexOf(10, start);
    if (end === -1) break;
    if (!lineIntact(view.subarray(start, end))) Atomics.store(state, STATE.failed, 1);
    ends[slot * SLOT_LINES + count] = end;
    count += 1;
    start = end + 1;
  }
  state[STATE.lines + slot] = count;
  if (count === 0 && filled === SLOT_BYTES) return -1;
  view.copy(carry, 0, start, filled);
  return filled - start;
}

function run(): void {
  const fd = openSync(shared.path, 'r');
  try {
    let carried = 0;
    for (let produced = 0; ; produced++) {
      waitForSlot(produced);
      const slot = produced % SLOTS;
      const base = slot * SLOT_BYTES;
      carry.copy(bytes, base, 0, carried);
      let filled = carried;
      let read = 1;
      while (filled < SLOT_BYTES && read > 0) {
        read = readSync(fd, bytes, base + filled, SLOT_BYTES - filled, null);
        filled += read;
      }
      carried = checkSlot(slot, filled);
      if (carried < 0) {
        publish(GAVE_UP);
        return;
      }
      Atomics.store(state, STATE.produced, produced + 1);
      if (read === 0) {
        // The end: whole if no bytes are left after the last newline.
        publish(carried === 0 ? ENDED : GAVE_UP);
        return;
      }
      publish();
    }
  } finally {
    closeSync(fd);
  }
}

try {
  run();
} catch {
  publish(GAVE_UP);
}
