// The flight recorder: assigns each event its step and previous hash, encodes it, and
// appends it to the sink before returning, so the caller's effect always follows its
// evidence. Signed checkpoints of the chain follow the events (at most one per interval,
// signed off the main thread, one soon after the log goes idle); a run that ends normally
// is sealed with a signed seal event (count and head). Inside batch(), appended lines are
// held and written together when the batch ends: for a caller that holds the effects of
// the whole batch until then (the stdio proxy's chunk).

import { canonicalize } from '../crypto/canonical.js';
import { ByteWriter } from '../crypto/canonical-bytes.js';
import type { Signer } from '../crypto/index.js';
import { signLater } from '../crypto/signer-thread.js';
import { CHECKPOINT_DOMAIN, SEAL_DOMAIN, signingMessage, signRecord } from '../crypto/signing.js';
import { AgentkError } from '../errors.js';
import { encodeEventBytes } from './encode.js';
import {
  type CheckpointLine,
  type CheckpointRecord,
  EVENT_FORMAT_VERSION,
  type FlightEvent,
  GENESIS_HASH,
  MAX_CHECKPOINT_LAG,
  type SealEvent,
  type SealRecord,
  type SignedHead,
  type UnchainedEvent,
} from './event.js';
import type { LogSink } from './sink.js';

/** How the recorder signs checkpoints of its chain. */
export interface CheckpointOptions {
  readonly signer: Signer;
  /**
   * A checkpoint is due once the log has been quiet this long, in ms (default 5), or
   * `busyMs` after the first event it would cover while events keep coming.
   */
  readonly intervalMs?: number | undefined;
  /** The longest an event waits for a checkpoint while the log stays busy, in ms (default 25). */
  readonly busyMs?: number | undefined;
  /** The checkpoint's `ts` (default Date.now). */
  readonly clock?: () => number;
  /** Signs a message (default: on the process's signing thread). */
  readonly sign?: (message: string) => Promise<string>;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5;
export const DEFAULT_CHECKPOINT_BUSY_MS = 25;

/**
 * Told of each event once its line is in the sink (for a batch: once the batch is written),
 * never before: an observer (telemetry) sees only what the log has. It must not throw; if it
 * does, the error is dropped, since the log, not the observer, is the record.
 */
export type EventObserver = (event: FlightEvent) => void;

export class FlightRecorder {
  readonly runId: string;
  readonly #sink: LogSink;
  readonly #checkpoints: CheckpointOptions | undefined;
  #count = 0;
  #head = GENESIS_HASH;
  #sealed = false;
  #closed = false;
  /** Events covered by the last checkpoint written. */
  #covered = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Events covered by the last checkpoint signed or being signed. */
  #signedUpTo = 0;
  /** When (performance.now) the first event after #signedUpTo, and the last, came. */
  #firstUncoveredAt = 0;
  #lastAt = 0;
  /** The checkpoint being signed, until it is written or dropped. */
  #signing: Promise<void> | null = null;
  /**
   * The lines of an open batch, not yet written (null outside a batch): as strings for a
   * sink that takes only strings, else as bytes in #heldBytes.
   */
  #held: string[] | null = null;
  #heldBytes: ByteWriter | null = null;
  /**
   * Why a batch could not be written: its events have steps and hashes the log lacks, so
   * no event may follow them (the seal included).
   */
  #lost: AgentkError | null = null;
  readonly #observer: EventObserver | undefined;
  /** The events of the held lines, told to the observer once they are written. */
  #heldEvents: FlightEvent[] = [];

  constructor(
    sink: LogSink,
    runId: string,
    checkpoints?: CheckpointOptions,
    observer?: EventObserver,
  ) {
    this.#sink = sink;
    this.runId = runId;
    this.#checkpoints = checkpoints;
    this.#observer = observer;
  }

  get path(): string | null {
    return this.#sink.path;
  }
  /** Events appended so far. */
  get count(): number {
    return this.#count;
  }
  /** The step the next event will get. */
  get nextStep(): number {
    return this.#count + 1;
  }
  /** Hash of the last event, or 64 zeros before the first. */
  get head(): string {
    return this.#head;
  }
  get sealed(): boolean {
    return this.#sealed;
  }

  /**
   * Chain, encode and durably append one event; returns it with its hash. The object passed
   * becomes the event (its chain fields are added to it), so pass a fresh one: a copy made
   * here gave V8 a new hidden class per call, as spreading an object and adding to it does.
   */
  append(event: UnchainedEvent): FlightEvent {
    if (this.#lost) throw this.#lost;
    if (this.#closed) throw new AgentkError('RECORDER_CLOSED', 'the flight recorder is closed');
    const fields = event as Record<string, unknown>;
    fields.previous_hash = this.#head;
    fields.step = this.#count + 1;
    fields.v = EVENT_FORMAT_VERSION;
    const { hash, bytes } = encodeEventBytes(fields);
    const sink = this.#sink;
    if (this.#held) this.#hold(bytes);
    else if (sink.appendBytes) sink.appendBytes(bytes);
    else sink.append(bytes.toString('utf8'));
    this.#count += 1;
    this.#head = hash;
    if (this.#checkpoints) {
      this.#lastAt = performance.now();
      if (this.#count === this.#signedUpTo + 1) this.#firstUncoveredAt = this.#lastAt;
      this.#schedule();
    }
    fields.event_hash = hash;
    const appended = fields as unknown as FlightEvent;
    if (this.#observer) {
      if (this.#held) this.#heldEvents.push(appended);
      else this.#tell([appended]);
    }
    return appended;
  }

  /** Keep a line of the open batch (bytes are the encoder's: copied, as they are reused). */
  #hold(bytes: Buffer): void {
    if (!this.#sink.appendBytes) {
      this.#held?.push(bytes.toString('utf8'));
      return;
    }
    this.#heldBytes ??= new ByteWriter(undefined, 16 * 1024);
    this.#heldBytes.ensure(bytes.length);
    this.#heldBytes.bytes.set(bytes, this.#heldBytes.pos);
    this.#heldBytes.pos += bytes.length;
  }

  #tell(events: readonly FlightEvent[]): void {
    for (const event of events) {
      try {
        this.#observer?.(event);
      } catch {
        // The observer's failure is its own: the event is in the log already.
      }
    }
  }

  /** Events covered by a signed checkpoint written so far (the seal aside). */
  get checkpointed(): number {
    return this.#covered;
  }

  /**
   * A checkpoint is due once the log has been quiet for an interval, or `busyMs` after the
   * first event it would cover: a log that goes idle gets one an interval after its last
   * event, a busy one every `busyMs` (each checkpoint costs the process far more than its
   * signature: two threads woken, caches cold).
   */
  #schedule(): void {
    if (!this.#checkpoints || this.#timer || this.#signing || this.#closed) return;
    this.#wait(this.#intervalMs);
  }

  get #intervalMs(): number {
    return this.#checkpoints?.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  }

  #wait(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const due = this.#dueIn();
      if (due > 0) this.#wait(due);
      else void this.checkpoint();
    }, ms);
    this.#timer.unref();
  }

  /** Milliseconds until the next checkpoint is due (0 or less: now). */
  #dueIn(): number {
    const quiet = this.#lastAt + this.#intervalMs;
    const busy = this.#firstUncoveredAt + (this.#checkpoints?.busyMs ?? DEFAULT_CHECKPOINT_BUSY_MS);
    return Math.min(quiet, busy) - performance.now();
  }

  /**
   * Sign a checkpoint of the chain as it stands and write it when the signature comes back
   * (now, rather than when due). Resolves once it is written or dropped; never rejects.
   */
  checkpoint(): Promise<void> {
    if (this.#signing) return this.#signing;
    const options = this.#checkpoints;
    if (!options || this.#closed || this.#lost || this.#count === this.#covered) {
      return Promise.resolve();
    }
    // A checkpoint covers only events on disk: in a batch, it waits for the next turn.
    if (this.#held !== null) {
      this.#schedule();
      return Promise.resolve();
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const { signer } = options;
    const fields = this.#signedFields(
      signer,
      new Date((options.clock ?? Date.now)()).toISOString(),
    );
    this.#signedUpTo = fields.event_count;
    const sign = options.sign ?? ((message: string) => signLater(signer, message));
    this.#signing = sign(signingMessage(CHECKPOINT_DOMAIN, fields))
      .then((signature) => this.#writeCheckpoint({ ...fields, signature }))
      .catch(() => undefined)
      .finally(() => {
        this.#signing = null;
        if (this.#count > this.#covered) this.#schedule();
      });
    return this.#signing;
  }

  /** What a checkpoint and the seal sign: the chain's count and head, by this signer. */
  #signedFields(signer: Signer, ts: string): Omit<SignedHead, 'signature'> {
    return {
      alg: signer.algorithm,
      event_count: this.#count,
      head_hash: this.#head,
      key_source: signer.source,
      public_key: signer.publicKey,
      run_id: this.runId,
      ts,
    };
  }

  #writeCheckpoint(checkpoint: CheckpointRecord): void {
    const lag = this.#count - checkpoint.event_count;
    if (this.#closed || this.#lost || lag > MAX_CHECKPOINT_LAG) return;
    const line: CheckpointLine = { checkpoint, type: 'checkpoint', v: 2 };
    // A write that fails loses only this checkpoint; the next event's append fails closed.
    this.#sink.append(`${canonicalize(line)}\n`);
    this.#covered = checkpoint.event_count;
  }

  /** Append the signed seal (event count and head hash) and close the log. */
  seal(signer: Signer, agentId: string, ts: string): SealEvent {
    const seal: SealRecord = signRecord(signer, SEAL_DOMAIN, {
      ...this.#signedFields(signer, ts),
      agent_id: agentId,
    });
    const event = this.append({ type: 'seal', ts, run_id: this.runId, agent_id: agentId, seal });
    this.#writeHeld(); // in a batch: the seal goes with the events before it, in one write
    this.#sealed = true;
    this.close();
    return event as SealEvent;
  }

  /**
   * Run `work` with the lines of the events it appends held in memory, then write them all
   * at once: one write(2) for a file sink (one fsync with `fsync` durability). The caller
   * must hold every effect of those events until this returns. If they cannot be written,
   * this throws TRACE_IO and the recorder is lost: every later append or sync throws it
   * too, and the caller must drop the batch's effects. In a batch already, `work` joins it.
   */
  batch(work: () => void): void {
    if (this.#held !== null) {
      work();
      return;
    }
    this.#held = [];
    try {
      work();
    } finally {
      this.#endBatch();
    }
  }

  #endBatch(): void {
    try {
      this.#writeHeld();
    } finally {
      this.#held = null;
    }
    // Also when a write failed inside the batch and `work` caught it (a failed seal).
    if (this.#lost) throw this.#lost;
  }

  /** Write the lines held so far, together; a batch goes on holding what follows. */
  #writeHeld(): void {
    const lines = this.#held;
    const held = this.#heldBytes;
    if (lines === null || (lines.length === 0 && (held === null || held.pos === 0))) return;
    this.#held = [];
    const events = this.#heldEvents;
    this.#heldEvents = [];
    try {
      if (held !== null && held.pos > 0) {
        const bytes = held.bytes.subarray(0, held.pos);
        held.reset();
        this.#sink.appendBytes?.(bytes);
      } else if (this.#sink.appendLines) this.#sink.appendLines(lines);
      else for (const line of lines) this.#sink.append(line);
    } catch (error) {
      this.#lost = lostBatch(error, this.path);
      throw this.#lost;
    }
    this.#tell(events);
  }

  /** Make every event appended so far durable (for `group` durability; see sink.ts). */
  sync(): void {
    if (this.#lost) throw this.#lost;
    if (!this.#closed) this.#sink.sync?.();
  }

  /** Close without a seal (what a crash looks like to a verifier). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    try {
      this.#writeHeld(); // in a batch: what it appended before closing is not dropped
    } finally {
      this.#sink.close();
    }
  }
}

/**
 * A batch that could not be written is TRACE_IO, whatever the sink threw: on it, the
 * caller drops the batch's effects.
 */
function lostBatch(error: unknown, path: string | null): AgentkError {
  if (error instanceof AgentkError && error.code === 'TRACE_IO') return error;
  const name = error instanceof AgentkError ? error.code : (error as Error | null)?.name;
  return new AgentkError(
    'TRACE_IO',
    `cannot append to trace ${path ?? '(in memory)'} (${name ?? 'error'})`,
  );
}
