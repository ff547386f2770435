// What the flight log may keep verbatim. Targets, intents, paths and argument names are
// the agent's (or a peer's) text: they are clipped and lose credential material before
// they are written, and a name that does not look like a name is kept only as a hash.
// Input distrusted: every string passed in.

import { sha256Hex } from '../crypto/index.js';
import { redactSecrets } from '../provenance/detect.js';

/** A string kept verbatim in the log: clipped to `limit`, credential material redacted. */
export function loggable(text: string, limit: number): string {
  const clipped = text.length > limit ? `${text.slice(0, limit)}…` : text;
  return redactSecrets(clipped.toWellFormed());
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
