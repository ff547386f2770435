// What the flight log may keep verbatim. Targets, intents, paths and argument names are
// the agent's (or a peer's) text: they are clipped and lose credential material before
// they are written, and a name that does not look like a name is kept only as a hash.
// Input distrusted: every string passed in.

import { sha256Hex } from '../crypto/index.js';
import { redactSecrets } from '../provenance/detect.js';

/**
 * Characters past the clip that are still scanned, so that a credential cut by the clip
 * is found whole (the longest token format is 4096 characters; key blocks are found from
 * their first line).
 */
const SCAN_MARGIN = 4096;

/** A string kept verbatim in the log: clipped to `limit`, credential material redacted. */
export function loggable(text: string, limit: number): string {
  // Redacted before it is clipped: a cut would leave the start of a credential unfound.
  const redacted = redactSecrets(text.slice(0, limit + SCAN_MARGIN).toWellFormed());
  return text.length > limit ? `${redacted.slice(0, limit).toWellFormed()}…` : redacted;
}

/**
 * How an argument's (or member's) name appears in the log: as written when it looks like
 * a name (an identifier without long digit runs or credential material), otherwise by
 * hash. A hijacked agent can put anything in a name; the log keeps no raw content.
 */
export function argRef(key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(key) && !/\d{5}/.test(key);
  // A name the redaction would change is hashed instead: two token-shaped names must not
  // log (and hash into a request) as the same "[redacted-secret]".
  return plain && loggable(key, 64) === key ? key : `~${sha256Hex(key).slice(0, 16)}`;
}
