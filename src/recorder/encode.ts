// One encoder for both sides of the chain: the writer uses it to produce a line and its
// hash, the verifier uses it to recompute both from a parsed line. Because they share it,
// a line verifies only if it is byte-for-byte what the writer would have produced.

import { canonicalize, memberKey, sortedKeys } from '../crypto/canonical.js';
import { domainHash, domainHashJoined } from '../crypto/index.js';
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

/**
 * Encode the fields of an event (everything but `event_hash`): the hash is taken over the
 * RFC 8785 form of those fields with domain separation, and the line is the RFC 8785 form
 * of the fields plus `event_hash`. JCS orders members by key, so the members are encoded
 * in two runs, the keys before `event_hash` and those after it, and the hash's member is
 * placed between them: one encoding serves both, with no copy of the fields.
 */
export function encodeEvent(fields: Readonly<Record<string, unknown>>): EncodedEvent {
  const keys = sortedKeys(fields);
  let head = '';
  let tail = '';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const value = fields[key];
    if (key === HASH_KEY || value === undefined) continue;
    const member = memberKey(key) + canonicalize(value);
    if (key < HASH_KEY) head = head === '' ? member : `${head},${member}`;
    else tail = tail === '' ? member : `${tail},${member}`;
  }
  const hashed = `{${head}${head && tail ? ',' : ''}${tail}}`;
  // Hashing makes `hashed` one flat string; the line is cut from it (slices share its
  // bytes) rather than built again from `head` and `tail`, trees of small strings that the
  // write would otherwise walk a second time.
  const hash = domainHash(EVENT_HASH_DOMAIN, hashed);
  const member = `"${HASH_KEY}":"${hash}"`;
  if (head === '')
    return { hash, line: tail === '' ? `{${member}}` : `{${member},${hashed.slice(1)}` };
  const cut = head.length + 1;
  if (tail === '') return { hash, line: `${hashed.slice(0, cut)},${member}}` };
  return { hash, line: `${hashed.slice(0, cut + 1)}${member}${hashed.slice(cut)}` };
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
  if (scan === null) return false;
  // No event_hash: a checkpoint line, whose form is all there is to check here (its count,
  // head and signature are checked against the chain by the main thread; an event without
  // event_hash fails its shape check there).
  if (scan.memberStart < 0) return true;
  const hash = lineEventHash(line, scan);
  // The member is `"event_hash":"<hash>"`: its value starts after the key, colon and quote.
  const at = scan.memberStart + HASH_KEY.length + 4;
  if (scan.memberEnd !== at + hash.length + 1) return false;
  for (let k = 0; k < hash.length; k++) if (line[at + k] !== hash.charCodeAt(k)) return false;
  return true;
}
