// The flight recorder: assigns each event its step and previous hash, encodes it, and
// appends it to the sink before returning, so the caller's effect always follows its
// evidence. A run that ends normally is sealed with a signed seal event (count and head).
// Inside batch(), appended lines are held and written together when the batch ends: for
// a caller that holds the effects of the whole batch until then (the stdio proxy's chunk).

import type { Signer } from '../crypto/index.js';
import { SEAL_DOMAIN, signRecord } from '../crypto/signing.js';
import { AgentkError } from '../errors.js';
import { encodeEvent } from './encode.js';
import {
  EVENT_FORMAT_VERSION,
  type FlightEvent,
  GENESIS_HASH,
  type SealEvent,
  type SealRecord,
  type UnchainedEvent,
} from './event.js';
import type { LogSink } from './sink.js';

export class FlightRecorder {
  readonly runId: string;
  readonly #sink: LogSink;
  #count = 0;
  #head = GENESIS_HASH;
  #sealed = false;
  #closed = false;
  /** The lines of an open batch, not yet written (null outside a batch). */
  #held: string[] | null = null;
  /**
   * Why a batch could not be written: its events have steps and hashes the log lacks, so
   * no event may follow them (the seal included).
   */
  #lost: AgentkError | null = null;

  constructor(sink: LogSink, runId: string) {
    this.#sink = sink;
    this.runId = runId;
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

  /** Chain, encode and durably append one event; returns it with its hash. */
  append(event: UnchainedEvent): FlightEvent {
    if (this.#lost) throw this.#lost;
    if (this.#closed) throw new AgentkError('RECORDER_CLOSED', 'the flight recorder is closed');
    const fields = {
      ...event,
      v: EVENT_FORMAT_VERSION,
      step: this.#count + 1,
      previous_hash: this.#head,
    };
    const { hash, line } = encodeEvent(fields);
    if (this.#held) this.#held.push(`${line}\n`);
    else this.#sink.append(`${line}\n`);
    this.#count += 1;
    this.#head = hash;
    return { ...fields, event_hash: hash } as FlightEvent;
  }

  /** Append the signed seal (event count and head hash) and close the log. */
  seal(signer: Signer, agentId: string, ts: string): SealEvent {
    const fields = {
      event_count: this.#count,
      head_hash: this.#head,
      alg: signer.algorithm,
      key_source: signer.source,
      public_key: signer.publicKey,
    };
    const seal: SealRecord = signRecord(signer, SEAL_DOMAIN, {
      ...fields,
      run_id: this.runId,
      agent_id: agentId,
      ts,
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
    if (lines === null || lines.length === 0) return;
    this.#held = [];
    try {
      if (this.#sink.appendLines) this.#sink.appendLines(lines);
      else for (const line of lines) this.#sink.append(line);
    } catch (error) {
      this.#lost = lostBatch(error, this.path);
      throw this.#lost;
    }
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
