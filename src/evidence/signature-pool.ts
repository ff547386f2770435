// Signature verification beside the chain check: the main thread parses, chains, binds
// and encodes each signed record while one worker thread verifies the signatures, so a
// large log verifies at close to the bare Ed25519 rate. When the worker falls behind, the
// main thread verifies the batch in hand itself instead of waiting, and it verifies the
// last one itself: on two cores both verify, and neither waits for the other. The pool only ever confirms: it
// answers "every signature verified" or "not confirmed" (a failure, a worker that did not
// start or stopped answering), and the caller then verifies the slow, exact way, which
// names the failing line. Nothing here can turn a failure into a pass.

import { Worker } from 'node:worker_threads';
import { verifyEd25519 } from '../crypto/index.js';
import type { SignatureCheck } from '../crypto/signing.js';
import { compiledWorkerExists } from '../paths.js';

/** Indexes into the shared state. */
export const DONE = 0;
export const FAILED = 1;

const BATCH = 256;
/**
 * Batches posted and not yet verified, at most: past it the main thread verifies its batch
 * itself. Few, so that the worker's backlog when the log ends (what finish() waits for)
 * is short.
 */
const MAX_QUEUED = 4;
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
  /** A signature the main thread verified failed. */
  #failedHere = false;
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

  /** Post the batch in hand, or verify it here when the worker is MAX_QUEUED behind. */
  #flush(last = false): void {
    const batch = this.#batch;
    this.#batch = [];
    if (batch.length === 0 || this.#stalled) return;
    if (last || this.#posted - Atomics.load(this.#state, DONE) >= MAX_QUEUED) {
      this.#verifyHere(batch);
      return;
    }
    this.#worker.postMessage(batch);
    this.#posted += 1;
  }

  #verifyHere(batch: readonly (readonly [string, string, string])[]): void {
    if (this.#failedHere) return;
    for (const [publicKey, message, signature] of batch) {
      if (!verifyEd25519(publicKey, message, signature)) {
        this.#failedHere = true;
        return;
      }
    }
  }

  /** Block until the worker finishes another batch, or mark it stalled. */
  #waitForProgress(): void {
    const done = Atomics.load(this.#state, DONE);
    Atomics.wait(this.#state, DONE, done, STALL_MS);
    if (Atomics.load(this.#state, DONE) === done) this.#stalled = true;
  }

  /** Wait for the worker: true only if every signature added verified. Ends the worker. */
  finish(): boolean {
    this.#flush(true);
    while (!this.#stalled && Atomics.load(this.#state, DONE) < this.#posted) {
      this.#waitForProgress();
    }
    void this.#worker.terminate();
    return (
      !this.#malformed &&
      !this.#failedHere &&
      !this.#stalled &&
      Atomics.load(this.#state, DONE) === this.#posted &&
      Atomics.load(this.#state, FAILED) === 0
    );
  }
}
