// One encoder for both sides of the chain: the writer uses it to produce a line and its
// hash, the verifier uses it to recompute both from a parsed line. Because they share it,
// a line verifies only if it is byte-for-byte what the writer would have produced.

import { canonicalize } from '../crypto/canonical.js';
import { domainHash, randomHex } from '../crypto/index.js';
import { EVENT_HASH_DOMAIN } from './event.js';

const HASH_KEY = 'event_hash';

export interface EncodedEvent {
  readonly hash: string;
  /** The canonical line including `event_hash`, without the trailing newline. */
  readonly line: string;
}

// Where event_hash goes is found by encoding the event once with a stand-in value, 64 hex
// digits drawn at random per process: as an unescaped `"event_hash":"<stand-in>"` it can
// only be the top-level member (a nested key with the same value would need the stand-in,
// which nothing outside this module ever sees).
const STAND_IN = randomHex(32);
const STAND_IN_MEMBER = `"${HASH_KEY}":"${STAND_IN}"`;

/**
 * Encode the fields of an event (everything but `event_hash`): the hash is taken over the
 * RFC 8785 form of those fields with domain separation, and the line is the RFC 8785 form
 * of the fields plus `event_hash`. One canonical encoding serves both.
 */
export function encodeEvent(fields: Readonly<Record<string, unknown>>): EncodedEvent {
  const encoded = canonicalize({ ...fields, [HASH_KEY]: STAND_IN });
  const at = encoded.indexOf(STAND_IN_MEMBER);
  const end = at + STAND_IN_MEMBER.length;
  // The member leaves with the comma that joins it to a neighbour (if it has one).
  const hashed =
    encoded[at - 1] === ','
      ? encoded.slice(0, at - 1) + encoded.slice(end)
      : encoded.slice(0, at) + encoded.slice(encoded[end] === ',' ? end + 1 : end);
  const hash = domainHash(EVENT_HASH_DOMAIN, hashed);
  return { hash, line: `${encoded.slice(0, at)}"${HASH_KEY}":"${hash}"${encoded.slice(end)}` };
}
