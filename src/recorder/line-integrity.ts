// Whether a line of a flight log is exactly the canonical encoding of its event and hashes
// to its event_hash. A line in canonical form (every line the recorder writes) is checked
// from its bytes in one pass and hashed as it stands; any other line is re-encoded, which
// names what is wrong with it. On a large log the byte check can run on a worker thread
// instead (checked-lines.ts), whose answer the caller waits for before trusting a pass.
// Input distrusted: every byte of the line.

import { scanCanonical } from './canonical-scan.js';
import { encodeEvent, HASH_KEY_BYTES, lineEventHash } from './encode.js';
import type { FlightEvent } from './event.js';

export interface IntegrityProblem {
  readonly code: 'hash-mismatch' | 'not-canonical' | 'torn-tail';
  readonly detail: string;
}

/**
 * What is wrong with a parsed line's integrity, or undefined: its hash, then its form,
 * then whether it is whole. `checkedElsewhere`: hash and form are a worker's to check.
 */
export function integrityProblem(
  event: FlightEvent,
  bytes: Uint8Array,
  text: string,
  terminated: boolean,
  checkedElsewhere: boolean,
): IntegrityProblem | undefined {
  if (!checkedElsewhere) {
    const problem = contentProblem(event, bytes, text);
    if (problem) return problem;
  }
  if (!terminated) {
    return { code: 'torn-tail', detail: 'last line has no newline (cut off mid-write)' };
  }
  return undefined;
}

function contentProblem(
  event: FlightEvent,
  bytes: Uint8Array,
  text: string,
): IntegrityProblem | undefined {
  const scan = scanCanonical(bytes, HASH_KEY_BYTES);
  let hash: string;
  let canonical = true;
  if (scan && scan.memberStart >= 0) hash = lineEventHash(bytes, scan);
  else {
    // Not canonical, so this line fails: re-encoding it tells whether its content changed
    // (hash-mismatch, which comes first) or only its bytes (not-canonical).
    let encoded: ReturnType<typeof encodeEvent>;
    try {
      encoded = encodeEvent(event as unknown as Record<string, unknown>);
    } catch {
      return { code: 'not-canonical', detail: 'line holds a value with no canonical encoding' };
    }
    hash = encoded.hash;
    canonical = encoded.line === text;
  }
  if (hash !== event.event_hash) {
    return {
      code: 'hash-mismatch',
      detail: 'event content does not match its event_hash (changed after writing)',
    };
  }
  if (!canonical) {
    return {
      code: 'not-canonical',
      detail: 'line bytes differ from the canonical encoding of its event',
    };
  }
  return undefined;
}
