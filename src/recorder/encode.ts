// One encoder for both sides of the chain: the writer uses it to produce a line and its
// hash, the verifier uses it to recompute both from a parsed line. Because they share it,
// a line verifies only if it is byte-for-byte what the writer would have produced.

import { domainHash } from '../crypto/index.js';
import { canonicalize } from './canonical.js';
import { EVENT_HASH_DOMAIN } from './event.js';

const HASH_KEY = 'event_hash';

export interface EncodedEvent {
  readonly hash: string;
  /** The canonical line including `event_hash`, without the trailing newline. */
  readonly line: string;
}

/**
 * Encode the fields of an event (everything but `event_hash`): the hash is taken over the
 * RFC 8785 form of those fields with domain separation, and the line is the RFC 8785 form
 * of the fields plus `event_hash`. Top-level members are canonicalised once and spliced.
 */
export function encodeEvent(fields: Readonly<Record<string, unknown>>): EncodedEvent {
  const keys = Object.keys(fields)
    .filter((key) => key !== HASH_KEY && fields[key] !== undefined)
    .sort();
  // The members before and after `event_hash` in key order, each joined once: the hash
  // input is `{before,after}` and the line is `{before,"event_hash":…,after}`.
  let before = '';
  let after = '';
  for (const key of keys) {
    const member = `${JSON.stringify(key)}:${canonicalize(fields[key])}`;
    if (key < HASH_KEY) before = before === '' ? member : `${before},${member}`;
    else after = after === '' ? member : `${after},${member}`;
  }
  const joint = before !== '' && after !== '' ? ',' : '';
  const hash = domainHash(EVENT_HASH_DOMAIN, `{${before}${joint}${after}}`);
  const hashMember = `"${HASH_KEY}":"${hash}"`;
  const line = `{${before === '' ? '' : `${before},`}${hashMember}${after === '' ? '' : `,${after}`}}`;
  return { hash, line };
}
