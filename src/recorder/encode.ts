// One encoder for both sides of the chain: the writer uses it to produce a line and its
// hash, the verifier uses it to recompute both from a parsed line. Because they share it,
// a line verifies only if it is byte-for-byte what the writer would have produced.

import { canonicalize } from '../crypto/canonical.js';
import { domainHash, domainHashJoined, randomHex } from '../crypto/index.js';
import { type CanonicalScan, scanCanonical } from './canonical-scan.js';
import { EVENT_HASH_DOMAIN } from './event.js';

const HASH_KEY = 'event_hash';
const COMMA = 0x2c;
/** The key of the member the hash leaves out, as bytes: what a scan of a line looks for. */
export const HASH_KEY_BYTES: Uint8Array = Buffer.from(HASH_KEY, 'latin1');

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

/**
 * The hash encodeEvent gives the event of a canonical line, from the line's bytes: the
 * top-level event_hash member (located by scanCanonical) leaves with the comma that joins
 * it to a neighbour, exactly as encodeEvent cuts it, and the rest is hashed as it stands.
 * Only for lines scanCanonical accepted: then the rest is the canonical form of the fields.
 */
export function lineEventHash(line: Uint8Array, member: CanonicalScan): string {
  let cutStart = member.memberStart;
  let cutEnd = member.memberEnd;
  if (line[cutStart - 1] === COMMA) cutStart -= 1;
  else if (line[cutEnd] === COMMA) cutEnd += 1;
  return domainHashJoined(EVENT_HASH_DOMAIN, line.subarray(0, cutStart), line.subarray(cutEnd));
}

/**
 * Whether a line is canonical and hashes to the event_hash it carries, from its bytes
 * alone (what the verifier's second thread checks; everything else is checked beside it).
 */
export function lineIntact(line: Uint8Array): boolean {
  const scan = scanCanonical(line, HASH_KEY_BYTES);
  if (scan === null || scan.memberStart < 0) return false;
  const hash = lineEventHash(line, scan);
  // The member is `"event_hash":"<hash>"`: its value starts after the key, colon and quote.
  const at = scan.memberStart + HASH_KEY.length + 4;
  if (scan.memberEnd !== at + hash.length + 1) return false;
  for (let k = 0; k < hash.length; k++) if (line[at + k] !== hash.charCodeAt(k)) return false;
  return true;
}
