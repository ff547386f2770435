// Checking the signed checkpoints of a format 2 log (docs/flight-log.md). A checkpoint
// line is not an event: it names an earlier point of the chain (its event count and the
// hash there) and signs it. The verifier remembers the hashes of the recent events, so a
// checkpoint that arrives some events after the point it signs can still be checked, with
// memory that stays flat however long the log is.
// Input distrusted: every byte of the line.

import { CHECKPOINT_DOMAIN, verifyRecordSignature } from '../crypto/signing.js';
import { scanCanonical } from './canonical-scan.js';
import { type CheckpointLine, MAX_CHECKPOINT_LAG } from './event.js';

/** Recent event hashes remembered: twice the lag after which a writer drops a checkpoint. */
const REMEMBERED = 2 * MAX_CHECKPOINT_LAG;

export interface CheckpointProblem {
  readonly code: 'not-canonical' | 'checkpoint-mismatch' | 'checkpoint-signature';
  readonly detail: string;
}

/** The checkpoints of one log, checked against the chain as it is read. */
export class CheckpointBook {
  /**
   * The remembered hashes as bytes, 32 per event in a ring (1 MiB). Kept as strings, each
   * event's hash outlived a few young-generation collections, was promoted and died in the
   * old generation: about 80 bytes of old garbage per event, which let a long verification's
   * heap grow by tens of MiB between full collections.
   */
  readonly #hashes = Buffer.alloc(REMEMBERED * 32);
  /** Events covered by the last valid checkpoint. */
  covered = 0;
  count = 0;

  /** Remember the hash of event `step` (every event, in order). */
  event(step: number, hash: string): void {
    // The hash is 64 hex digits (the event's shape was checked before).
    this.#hashes.write(hash, (step % REMEMBERED) * 32, 32, 'hex');
  }

  /**
   * Check a checkpoint line read after `events` events of run `runId`: canonical bytes (by
   * the scan every event line gets), a point of this chain after the last checkpoint's,
   * and a signature that verifies.
   */
  check(line: CheckpointLine, bytes: Uint8Array, events: number, runId: string | null) {
    return this.#problem(line, bytes, events, runId) ?? this.#accept(line);
  }

  #accept(line: CheckpointLine): undefined {
    this.covered = line.checkpoint.event_count;
    this.count += 1;
    return undefined;
  }

  #problem(
    line: CheckpointLine,
    bytes: Uint8Array,
    events: number,
    runId: string | null,
  ): CheckpointProblem | undefined {
    if (scanCanonical(bytes) === null) {
      return { code: 'not-canonical', detail: 'checkpoint line is not in canonical form' };
    }
    const { event_count: count, head_hash: head, run_id: run } = line.checkpoint;
    if (run !== runId) {
      return { code: 'checkpoint-mismatch', detail: 'checkpoint names another run' };
    }
    if (count <= this.covered || count > events || events - count >= REMEMBERED) {
      return {
        code: 'checkpoint-mismatch',
        detail: `checkpoint covers ${count} events, but ${events} precede it and ${this.covered} were covered before`,
      };
    }
    const at = (count % REMEMBERED) * 32;
    if (this.#hashes.toString('hex', at, at + 32) !== head) {
      return {
        code: 'checkpoint-mismatch',
        detail: `checkpoint head hash is not the hash of event ${count}`,
      };
    }
    if (!verifyRecordSignature(CHECKPOINT_DOMAIN, line.checkpoint)) {
      return { code: 'checkpoint-signature', detail: 'checkpoint signature does not verify' };
    }
    return undefined;
  }
}
