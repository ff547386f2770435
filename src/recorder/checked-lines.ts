// The lines of a large log read and checked on a worker thread, for the verifier's fast
// pass: the worker reads the file into slots of shared memory, splits it into lines and
// checks each line's bytes (canonical form, and that they hash to the event_hash they
// carry), while the main thread parses, checks the shape of and chains the same lines.
// It only ever confirms: finish() answers "every line was whole and intact" or "not
// confirmed" (a failure, a line too long for a slot, a last line without its newline, a
// worker that did not start or stopped answering), and the caller then verifies the exact
// way on one thread, which names the failing line. Nothing here can turn a failure into a
// pass.

import { Worker } from 'node:worker_threads';
import { compiledWorkerExists } from '../paths.js';

/** Indexes into the shared state. */
export const STATE = {
  /** Slots the worker has filled and checked. */
  produced: 0,
  /** Slots the main thread is done with. */
  consumed: 1,
  /** Bumped whenever the worker publishes anything: what the main thread waits on. */
  events: 2,
  /** RUNNING, ENDED (the whole file, every line terminated) or GAVE_UP. */
  status: 3,
  /** 1 once a line failed its check. */
  failed: 4,
  /** From here on, how many lines each slot holds. */
  lines: 5,
} as const;
export const RUNNING = 0;
export const ENDED = 1;
export const GAVE_UP = 2;

/**
 * Slots of shared memory, filled in turn: at most SLOTS are ahead of the main thread, so
 * memory stays flat whichever side is slower. A line longer than a slot, or more lines in
 * a slot than SLOT_LINES, leave the log to the exact pass (or the next slot).
 */
export const SLOTS = 8;
export const SLOT_BYTES = 1 << 20;
export const SLOT_LINES = 8192;
/** How long the worker may go without publishing (a slot takes a few ms) before it is
 * given up on; a worker that never started is noticed after this long too. */
const STALL_MS = 2_000;
const WORKER_URL = new URL('./checked-lines-worker.js', import.meta.url);

/** What the worker is given: the log's path and the memory it shares. */
export interface SharedLines {
  readonly path: string;
  readonly state: SharedArrayBuffer;
  /** SLOTS slots of SLOT_BYTES: the file's bytes, whole lines from each slot's start. */
  readonly bytes: SharedArrayBuffer;
  /** SLOTS runs of SLOT_LINES Int32s: where each line of a slot ends (its newline). */
  readonly ends: SharedArrayBuffer;
}

export class CheckedLines {
  readonly #worker: Worker;
  readonly #state: Int32Array;
  readonly #bytes: Buffer;
  readonly #ends: Int32Array;
  #consumed = 0;
  /** The worker stopped answering: nothing is confirmed. */
  #stalled = false;

  private constructor(path: string) {
    const shared: SharedLines = {
      path,
      state: new SharedArrayBuffer((STATE.lines + SLOTS) * 4),
      bytes: new SharedArrayBuffer(SLOTS * SLOT_BYTES),
      ends: new SharedArrayBuffer(SLOTS * SLOT_LINES * 4),
    };
    this.#state = new Int32Array(shared.state);
    this.#bytes = Buffer.from(shared.bytes);
    this.#ends = new Int32Array(shared.ends);
    this.#worker = new Worker(WORKER_URL, { workerData: shared });
    this.#worker.unref();
    // A worker that fails to start or dies stops publishing: lines() and finish() see it.
    this.#worker.on('error', () => undefined);
  }

  /** The lines of the log at `path`, or null where the worker cannot run. */
  static open(path: string): CheckedLines | null {
    if (!compiledWorkerExists(WORKER_URL)) return null;
    try {
      return new CheckedLines(path);
    } catch {
      return null;
    }
  }

  /**
   * The log's lines in order, without their newlines, as the worker publishes them. Each
   * is a view of shared memory, valid until the next one is taken. Ends early if the
   * worker gives up, finds a failed line, or stops answering.
   */
  *lines(): Generator<Buffer> {
    const state = this.#state;
    for (;;) {
      const events = Atomics.load(state, STATE.events);
      if (Atomics.load(state, STATE.failed) !== 0) return;
      if (this.#consumed < Atomics.load(state, STATE.produced)) {
        yield* this.#slot(this.#consumed % SLOTS);
        this.#consumed += 1;
        Atomics.store(state, STATE.consumed, this.#consumed);
        Atomics.notify(state, STATE.consumed);
        continue;
      }
      if (Atomics.load(state, STATE.status) !== RUNNING) return;
      // Nothing to take and not finished: wait for the worker's next word.
      Atomics.wait(state, STATE.events, events, STALL_MS);
      if (Atomics.load(state, STATE.events) === events) {
        this.#stalled = true;
        return;
      }
    }
  }

  *#slot(slot: number): Generator<Buffer> {
    const base = slot * SLOT_BYTES;
    const count = this.#state[STATE.lines + slot] as number;
    let start = 0;
    for (let k = 0; k < count; k++) {
      const end = this.#ends[slot * SLOT_LINES + k] as number;
      yield this.#bytes.subarray(base + start, base + end);
      start = end + 1;
    }
  }

  /** True only if every line of the file was taken, whole and intact. Ends the worker. */
  finish(): boolean {
    void this.#worker.terminate();
    const state = this.#state;
    return (
      !this.#stalled &&
      Atomics.load(state, STATE.status) === ENDED &&
      Atomics.load(state, STATE.failed) === 0 &&
      this.#consumed === Atomics.load(state, STATE.produced)
    );
  }
}
