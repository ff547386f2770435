// What an attacker with write access to a log can do: edit events, then recompute every
// hash so the chain verifies again, and re-sign the seal with a key they hold (here the
// public development key). Signature checks and pins are what must catch this.

import { canonicalize } from '../../src/crypto/canonical.js';
import type { Signer } from '../../src/crypto/index.js';
import { CHECKPOINT_DOMAIN, SEAL_DOMAIN, signRecord } from '../../src/crypto/signing.js';
import { developmentSigner } from '../../src/evidence/keys.js';
import { encodeEvent } from '../../src/recorder/encode.js';
import { GENESIS_HASH } from '../../src/recorder/event.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit arbitrary event fields.
export type Json = any;

export function parseLog(text: string): Json[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

/**
 * Re-chain edited events (and re-sign the seal) into a log text that passes `verify`.
 * `rebind`: also move each format 2 receipt (which has no signature of its own) to its
 * event's new step and previous hash, so the log passes `verify-signatures` too.
 */
export function rechain(
  events: Json[],
  signer: Signer = developmentSigner(),
  rebind = false,
): string {
  let previous = GENESIS_HASH;
  let count = 0;
  const lines: string[] = [];
  events.forEach((event) => {
    if (event.type === 'checkpoint') {
      // A checkpoint is re-signed over the chain as it now stands.
      const { signature: _signature, ...checkpoint } = event.checkpoint;
      const signed = signRecord(signer, CHECKPOINT_DOMAIN, {
        ...checkpoint,
        event_count: count,
        head_hash: previous,
        public_key: signer.publicKey,
        key_source: signer.source,
      });
      lines.push(canonicalize({ ...event, checkpoint: signed }));
      return;
    }
    const fields = { ...event, step: count + 1, previous_hash: previous };
    delete fields.event_hash;
    const receipt = fields.decision?.receipt;
    if (rebind && fields.v === 2 && receipt) {
      fields.decision = {
        ...fields.decision,
        receipt: { ...receipt, step: count + 1, previous_hash: previous },
      };
    }
    if (fields.type === 'seal') {
      const { signature: _signature, ...seal } = fields.seal;
      fields.seal = signRecord(signer, SEAL_DOMAIN, {
        ...seal,
        event_count: count,
        head_hash: previous,
        public_key: signer.publicKey,
        key_source: signer.source,
      });
    } else count += 1;
    const { hash, line } = encodeEvent(fields);
    lines.push(line);
    previous = hash;
  });
  return `${lines.join('\n')}\n`;
}
