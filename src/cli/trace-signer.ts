// Who sealed a reviewed log, judged by the key itself: its fingerprint, whether it is the
// public development key (anyone can sign with it), and whether it is this machine's active
// signer. A seal proves only that the log was not changed after whoever holds that key
// sealed it; a trace sealed elsewhere is only as trustworthy as where it came from.
// Input distrusted: the seal (its own `key_source` is never believed).

import { fingerprintOf, type Signer } from '../crypto/index.js';
import { isDevelopmentKey } from '../evidence/keys.js';
import type { ReviewedLog } from '../review/log.js';

export interface TraceSigner {
  readonly fingerprint: string;
  /** Sealed with the published development key: anyone could have written it. */
  readonly development: boolean;
  /** Sealed by this machine's active signer; null when that signer could not be loaded. */
  readonly this_machine: boolean | null;
  /** The active signer's fingerprint, when it is another key. */
  readonly active: string | null;
}

/** The seal's signer, compared with `active` (null: this machine's key did not load). */
export function traceSigner(log: ReviewedLog, active: Signer | null): TraceSigner | null {
  if (log.seal === null) return null;
  const key = log.seal.seal.public_key;
  const mine = active === null ? null : active.publicKey === key;
  return {
    fingerprint: fingerprintOf(key),
    development: isDevelopmentKey(key),
    this_machine: mine,
    active: active !== null && !mine ? active.fingerprint : null,
  };
}

/** The signer in words, one line. */
export function signerText(signer: TraceSigner | null, problem: string | null): string {
  if (signer === null) return 'no seal, so no signer: the log may have been cut short';
  const whose = signer.development
    ? 'the public development key: anyone can seal a trace with it, so it may come from anywhere'
    : signer.this_machine === true
      ? "this machine's signing key"
      : signer.this_machine === false
        ? `NOT this machine's signing key (${signer.active}): a trace from elsewhere; what it suggests is only as trustworthy as its source`
        : `this machine's signing key did not load (${problem ?? 'unknown'}): cannot tell whose key this is`;
  return `sealed by ${signer.fingerprint} (${whose})`;
}
