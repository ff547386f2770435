// Line integrity beside the chain check: on a large log, the main thread parses, checks
// the shape of and chains each event while one worker thread checks each line's bytes
// (canonical form, and that they hash to the event_hash they carry). The pool only ever
// confirms: it answers "every line added is intact" or "not confirmed" (a failure, a
// worker that did not start or stopped answering), and the caller then verifies the
// exact way on one thread, which names the failing line. Nothing here can turn a failure
// into a pass.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Indexes into the shared state: batches done and posted, whether a line failed, and
 * from LINES on, how many lines each slot's batch holds. */
export const DONE = 0;
export const POSTED = 1;
export const FAILED = 2;
export const LINES = 3;

/**
 * Lines travel in slots of shared memory, reused in turn (allocating and transferring a
 * fresh buffer per batch cost more than checking its lines): at most SLOTS batches are in
 * flight, so memory stays flat if the worker lags. Nothing is posted as a message: the
 * counters in the shared state are the whole protocol.
 */
export const SLOTS = 8;
export const SLOT_BYTES = 1 << 20;
/** Lines a slot holds at most (the ends of its lines are kept beside it). */
export const SLOT_LINES = 8192;
/** How long the worker may go without finishing a batch (one takes a few ms) before it
 * is given up on; a worker that never started is noticed after this long too. */
const STALL_MS = 2_000;
const WORKER_URL = new URL('./integrity-worker.js', import.meta.url);

/** The memory a pool shares with its worker. */
export interface SharedLines {
  readonly state: SharedArrayBuffer;
  /** SLOTS slots of SLOT_BYTES: each batch's lines back to back. */
  readonly bytes: SharedArrayBuffer;
  /** SLOTS runs of SLOT_LINES Int32s: where each line of a slot's batch ends. */
  readonly ends: SharedArrayBuffer;
}

export class IntegrityPool {
  readonly #worker: Worker;
  readonly #state: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #ends: Int32Array;
  #used = 0;
  #lines = 0;
  #posted = 0;
  /** A line did not fit in a slot: such a rare log is left to the exact pass. */
  #unconfirmable = false;
  /** The worker stopped answering: nothing more is posted, and nothing is confirmed. */
  #stalled = false;

  private constructor() {
    const shared: SharedLines = {
      state: new SharedArrayBuffer((LINES + SLOTS) * 4),
      bytes: new SharedArrayBuffer(SLOTS * SLOT_BYTES),
      ends: new SharedArrayBuffer(SLOTS * SLOT_LINES * 4),
    };
    this.#state = new Int32Array(shared.state);
    this.#bytes = new Uint8Array(shared.bytes);
    this.#ends = new Int32Array(shared.ends);
    this.#worker = new Worker(WORKER_URL, { workerData: shared });
    this.#worker.unref();
    // A worker that fails to start or dies leaves batches unfinished: finish() sees it.
    this.#worker.on('error', () => undefined);
  }

  /** A pool, or null where the worker cannot run (the compiled worker is missing). */
  static start(): IntegrityPool | null {
    if (WORKER_URL.protocol !== 'file:' || !existsSync(fileURLToPath(WORKER_URL))) return null;
    try {
      return new IntegrityPool();
    } catch {
      return null;
    }
  }

  /** Queue a line (without its newline) to be checked; its bytes are copied. */
  add(line: Uint8Array): void {
    if (this.#stalled || this.#unconfirmable) return;
    if (line.length > SLOT_BYTES) {
      this.#unconfirmable = true;
      return;
    }
    if (this.#used + line.length > SLOT_BYTES || this.#lines === SLOT_LINES) this.#flush();
    if (this.#lines === 0) {
      // The slot about to be filled must be free: the worker is done with its last batch.
      while (!this.#stalled && this.#posted - Atomics.load(this.#state, DONE) >= SLOTS) {
        this.#waitForProgress();
      }
      if (this.#stalled) return;
    }
    const slot = this.#posted % SLOTS;
    this.#bytes.set(line, slot * SLOT_BYTES + this.#used);
    this.#used += line.length;
    this.#ends[slot * SLOT_LINES + this.#lines] = this.#used;
    this.#lines += 1;
  }

  #flush(): void {
    if (this.#lines === 0 || this.#stalled) return;
    this.#state[LINES + (this.#posted % SLOTS)] = this.#lines;
    this.#posted += 1;
    Atomics.store(this.#state, POSTED, this.#posted);
    Atomics.notify(this.#state, POSTED);
    this.#used = 0;
    this.#lines = 0;
  }

  /** Block until the worker finishes another batch, or mark it stalled. */
  #waitForProgress(): void {
    const done = Atomics.load(this.#state, DONE);
    Atomics.wait(this.#state, DONE, done, STALL_MS);
    if (Atomics.load(this.#state, DONE) === done) this.#stalled = true;
  }

  /** Wait for the worker: true only if every line added is intact. Ends the worker. */
  finish(): boolean {
    this.#flush();
    while (!this.#stalled && Atomics.load(this.#state, DONE) < this.#posted) {
      this.#waitForProgress();
    }
    void this.#worker.terminate();
    return (
      !this.#unconfirmable &&
      !this.#stalled &&
      Atomics.load(this.#state, DONE) === this.#posted &&
      Atomics.load(this.#state, FAILED) === 0
    );
  }
}
