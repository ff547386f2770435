// Key rotation manifests: a public record that the holder of the previous key handed over
// to the next one. Both keys sign the same payload; the file is canonical JSON (RFC 8785)
// and verification demands the exact bytes, so any changed byte fails. No private
// material ever enters the manifest.
// Input distrusted: the manifest file.

import { canonicalize } from '../crypto/canonical.js';
import { canonicalSha256 } from '../crypto/canonical-bytes.js';
import { isEd25519PublicKey, isHex64, type Signer, verifyEd25519 } from '../crypto/index.js';
import { signingMessage } from '../crypto/signing.js';

export const ROTATION_DOMAIN = 'agentk/key-rotation/v1';
export const MAX_ROTATION_BYTES = 64 * 1024;

export interface RotationPayload {
  readonly version: 1;
  readonly type: 'agentk-key-rotation';
  readonly alg: 'Ed25519';
  readonly previous_public_key: string;
  readonly next_public_key: string;
  readonly rotated_at: string;
}

export interface RotationManifest extends RotationPayload {
  /** SHA-256 (domain-separated) of the canonical payload. */
  readonly payload_sha256: string;
  /** Signature by the previous key: it authorised the handover. */
  readonly previous_signature: string;
  /** Signature by the next key: its holder accepted it. */
  readonly next_signature: string;
}

export function createRotation(
  previous: Signer,
  next: Signer,
  rotatedAt: string,
): RotationManifest {
  const payload: RotationPayload = {
    version: 1,
    type: 'agentk-key-rotation',
    alg: 'Ed25519',
    previous_public_key: previous.publicKey,
    next_public_key: next.publicKey,
    rotated_at: rotatedAt,
  };
  const message = signingMessage(ROTATION_DOMAIN, { ...payload });
  return {
    ...payload,
    payload_sha256: canonicalSha256(payload, ROTATION_DOMAIN),
    previous_signature: previous.signHex(message),
    next_signature: next.signHex(message),
  };
}

/** The manifest's file content: canonical JSON and a newline. */
export function rotationText(manifest: RotationManifest): string {
  return `${canonicalize(manifest)}\n`;
}

export type RotationCheck =
  | { readonly ok: true; readonly manifest: RotationManifest }
  | { readonly ok: false; readonly reason: string };

const KEYS = [
  'alg',
  'next_public_key',
  'next_signature',
  'payload_sha256',
  'previous_public_key',
  'previous_signature',
  'rotated_at',
  'type',
  'version',
];

/** Verify a rotation manifest's bytes. Never throws. */
export function verifyRotationText(text: string): RotationCheck {
  const fail = (reason: string): RotationCheck => ({ ok: false, reason });
  if (text.length > MAX_ROTATION_BYTES) return fail('manifest is too large');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('manifest is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('manifest is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  if (keys.join() !== KEYS.join()) {
    return fail(`manifest fields must be exactly: ${KEYS.join(', ')}`);
  }
  let canonical: string;
  try {
    canonical = `${canonicalize(record)}\n`;
  } catch {
    return fail('manifest holds a value with no canonical encoding');
  }
  if (canonical !== text)
    return fail('manifest bytes are not canonical (changed after it was written)');
  if (record.version !== 1 || record.type !== 'agentk-key-rotation') {
    return fail('not an AgentK key-rotation manifest (version 1)');
  }
  if (record.alg !== 'Ed25519') return fail(`unsupported algorithm ${JSON.stringify(record.alg)}`);
  if (
    !isEd25519PublicKey(record.previous_public_key) ||
    !isEd25519PublicKey(record.next_public_key)
  ) {
    return fail('previous_public_key and next_public_key must be Ed25519 public keys');
  }
  if (record.previous_public_key === record.next_public_key) {
    return fail('previous and next key are the same: nothing was rotated');
  }
  if (typeof record.rotated_at !== 'string' || Number.isNaN(Date.parse(record.rotated_at))) {
    return fail('rotated_at is not a timestamp');
  }
  const { payload_sha256, previous_signature, next_signature, ...payload } = record;
  if (!isHex64(payload_sha256) || canonicalSha256(payload, ROTATION_DOMAIN) !== payload_sha256) {
    return fail('payload_sha256 does not match the payload');
  }
  const message = signingMessage(ROTATION_DOMAIN, payload);
  if (!verifyEd25519(record.previous_public_key, message, previous_signature)) {
    return fail('previous_signature does not verify under previous_public_key');
  }
  if (!verifyEd25519(record.next_public_key, message, next_signature)) {
    return fail('next_signature does not verify under next_public_key');
  }
  return { ok: true, manifest: record as unknown as RotationManifest };
}
