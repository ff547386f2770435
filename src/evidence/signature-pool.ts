// Signature verification beside the chain check: the main thread parses, chains, binds
// and encodes each signed record while one worker thread verifies the signatures, so a
// large log verifies at close to the bare Ed25519 rate. The pool only ever confirms: it
// answers "every signature verified" or "not confirmed" (a failure, a worker that did not
// start or stopped answering), and the caller then verifies the slow, exact way, which
// names the failing line. Nothing here can turn a failure into a pass.

import { Worker } from 'node:worker_threads';
import type { SignatureCheck } from '../crypto/signing.js';
import { compiledWorkerExists } from '../paths.js';

/** Indexes into the shared state. */
export const DONE = 0;
export const FAILED = 1;

const BATCH = 256;
/** Batches posted and not yet verified, at most: the worker is the slower side. */
const MAX_QUEUED = 16;
/** How long the worker may go without finishing a batch (one takes ~30 ms) before it is
 * given up on; a worker that never started is noticed after this long too. */
const STALL_MS = 2_000;
const WORKER_URL = new URL('./signature-worker.js', import.meta.url);

export class SignaturePool {
  readonly #worker: Worker;
  readonly #state = new Int32Array(new SharedArrayBuffer(8));
  #batch: (readonly [string, string, string])[] = [];
  #posted = 0;
  #malformed = false;
  /** The worker stopped answering: nothing more is posted, and nothing is confirmed. */
  #stalled = false;

  private constructor() {
    this.#worker = new Worker(WORKER_URL, { workerData: this.#state.buffer });
    this.#worker.unref();
    // A worker that fails to start or dies leaves batches unfinished: finish() sees it.
    this.#worker.on('error', () => undefined);
  }

  /** A pool, or null where the worker cannot run (the compiled worker is missing). */
  static start(): SignaturePool | null {
    if (!compiledWorkerExists(WORKER_URL)) return null;
    try {
      return new SignaturePool();
    } catch {
      return null;
    }
  }

  add(check: SignatureCheck): void {
    const { publicKey, message, signature } = check;
    if (typeof publicKey !== 'string' || typeof signature !== 'string') {
      this.#malformed = true;
      return;
    }
    this.#batch.push([publicKey, message, signature]);
    if (this.#batch.length >= BATCH) this.#flush();
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    if (batch.length === 0 || this.#stalled) return;
    while (!this.#stalled && this.#posted - Atomics.load(this.#state, DONE) >= MAX_QUEUED) {
      this.#waitForProgress();
    }
    if (this.#stalled) return;
    this.#worker.postMessage(batch);
    this.#posted += 1;
  }

  /** Block until the worker finishes another batch, or mark it stalled. */
  #waitForProgress(): void {
    const done = Atomics.load(this.#state, DONE);
    Atomics.wait(this.#state, DONE, done, STALL_MS);
    if (Atomics.load(this.#state, DONE) === done) this.#stalled = true;
  }

  /** Wait for the worker: true only if every signature added verified. Ends the worker. */
  finish(): boolean {
    this.#flush();
    while (!this.#stalled && Atomics.load(this.#state, DONE) < this.#posted) {
      this.#waitForProgress();
    }
    void this.#worker.terminate();
    return (
      !this.#malformed &&
      !this.#stalled &&
      Atomics.load(this.#state, DONE) === this.#posted &&
      Atomics.load(this.#state, FAILED) === 0
    );
  }
}
