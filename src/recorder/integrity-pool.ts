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

/** Indexes into the shared state. */
export const DONE = 0;
export const FAILED = 1;

/** Lines are copied into batches of this size (a longer line travels alone). */
const BATCH_BYTES = 1 << 20;
/** Batches posted and not yet checked, at most: memory stays flat if the worker lags. */
const MAX_QUEUED = 8;
/** How long the worker may go without finishing a batch (one takes a few ms) before it
 * is given up on; a worker that never started is noticed after this long too. */
const STALL_MS = 2_000;
const WORKER_URL = new URL('./integrity-worker.js', import.meta.url);

/** What a batch carries to the worker: the lines' bytes back to back, and where each ends. */
export interface LineBatch {
  readonly bytes: Uint8Array;
  readonly ends: readonly number[];
}

export class IntegrityPool {
  readonly #worker: Worker;
  readonly #state = new Int32Array(new SharedArrayBuffer(8));
  #bytes = new Uint8Array(BATCH_BYTES);
  #used = 0;
  #ends: number[] = [];
  #posted = 0;
  /** The worker stopped answering: nothing more is posted, and nothing is confirmed. */
  #stalled = false;

  private constructor() {
    this.#worker = new Worker(WORKER_URL, { workerData: this.#state.buffer });
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
    if (this.#stalled) return;
    if (this.#used + line.length > this.#bytes.length) {
      this.#flush();
      if (this.#stalled) return;
      // A line longer than a batch gets a batch of its own size.
      if (line.length > BATCH_BYTES) this.#bytes = new Uint8Array(line.length);
    }
    this.#bytes.set(line, this.#used);
    this.#used += line.length;
    this.#ends.push(this.#used);
  }

  #flush(): void {
    if (this.#ends.length === 0 || this.#stalled) return;
    while (!this.#stalled && this.#posted - Atomics.load(this.#state, DONE) >= MAX_QUEUED) {
      this.#waitForProgress();
    }
    if (this.#stalled) return;
    const batch: LineBatch = { bytes: this.#bytes.subarray(0, this.#used), ends: this.#ends };
    // The bytes move to the worker (no copy); this side starts a fresh batch.
    this.#worker.postMessage(batch, [this.#bytes.buffer]);
    this.#posted += 1;
    this.#bytes = new Uint8Array(BATCH_BYTES);
    this.#used = 0;
    this.#ends = [];
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
      !this.#stalled &&
      Atomics.load(this.#state, DONE) === this.#posted &&
      Atomics.load(this.#state, FAILED) === 0
    );
  }
}
