// One encoder for both sides of the chain: the writer uses it to produce a line and its
// hash, the verifier uses it to recompute both from a parsed line. Because they share it,
// a line verifies only if it is byte-for-byte what the writer would have produced.

import { canonicalize } from '../crypto/canonical.js';
import { domainHash } from '../crypto/index.js';
import { EVENT_HASH_DOMAIN } from './event.js';

const HASH_KEY = 'event_hash';

export interface EncodedEvent {
  readonly hash: string;
  /** The canonical line including `event_hash`, without the trailing newline. */
  readonly line: string;
}

/** The JCS members of a canonical object, without its braces ('' for an empty one). */
const members = (encoded: string) => encoded.slice(1, -1);

/**
 * Encode the fields of an event (everything but `event_hash`): the hash is taken over the
 * RFC 8785 form of those fields with domain separation, and the line is the RFC 8785 form
 * of the fields plus `event_hash`. JCS orders members by key, so the fields are encoded in
 * two parts, the keys before `event_hash` and those after it, and the hash's member is
 * placed between them: one encoding serves both, and fields built in key order (as the
 * recorder builds them) are serialised without a copy.
 */
export function encodeEvent(fields: Readonly<Record<string, unknown>>): EncodedEvent {
  // No prototype: a `__proto__` key (a hostile line) stays a member like any other.
  const before: Record<string, unknown> = Object.create(null);
  const after: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(fields).sort()) {
    if (key === HASH_KEY) continue;
    if (key < HASH_KEY) before[key] = fields[key];
    else after[key] = fields[key];
  }
  const head = members(canonicalize(before));
  const tail = members(canonicalize(after));
  const hashed = `{${head}${head && tail ? ',' : ''}${tail}}`;
  const hash = domainHash(EVENT_HASH_DOMAIN, hashed);
  const member = `"${HASH_KEY}":"${hash}"`;
  return { hash, line: `{${head && `${head},`}${member}${tail && `,${tail}`}}` };
}
