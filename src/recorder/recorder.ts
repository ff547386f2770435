// The flight recorder: assigns each event its step and previous hash, encodes it, and
// appends it to the sink before returning, so the caller's effect always follows its
// evidence. A run that ends normally is sealed with a signed seal event (count and head).

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
    if (this.#closed) throw new AgentkError('RECORDER_CLOSED', 'the flight recorder is closed');
    const fields = {
      ...event,
      v: EVENT_FORMAT_VERSION,
      step: this.#count + 1,
      previous_hash: this.#head,
    };
    const { hash, line } = encodeEvent(fields);
    this.#sink.append(`${line}\n`);
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
    this.#sealed = true;
    this.close();
    return event as SealEvent;
  }

  /** Make every event appended so far durable (for `group` durability; see sink.ts). */
  sync(): void {
    if (!this.#closed) this.#sink.sync?.();
  }

  /** Close without a seal (what a crash looks like to a verifier). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink.close();
  }
}
