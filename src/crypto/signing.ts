// What exactly is signed. Every signature covers `domain || 0x00 || JCS(fields)` where
// `fields` is the signed record without its `signature`. Domains keep a receipt from ever
// verifying as a handle or a seal.

import { canonicalize } from './canonical.js';
import { type Signer, verifyEd25519 } from './index.js';

export const RECEIPT_DOMAIN = 'agentk/receipt/v1';
export const HANDLE_DOMAIN = 'agentk/secret-handle/v1';
export const SEAL_DOMAIN = 'agentk/seal/v1';
export const APPROVAL_DOMAIN = 'agentk/approval/v1';
export const CHECKPOINT_DOMAIN = 'agentk/checkpoint/v1';

export function signingMessage(domain: string, fields: Readonly<Record<string, unknown>>): string {
  return `${domain}\0${canonicalize(fields)}`;
}

/** Sign a record: returns the record with `signature` added. */
export function signRecord<T extends Record<string, unknown>>(
  signer: Signer,
  domain: string,
  fields: T,
): T & { signature: string } {
  return { ...fields, signature: signer.signHex(signingMessage(domain, fields)) };
}

/** What verifying a signed record takes: the key it names, the exact message, the signature. */
export interface SignatureCheck {
  readonly publicKey: unknown;
  readonly message: string;
  readonly signature: unknown;
}

/** The check a signed record calls for, or null when it is malformed (cannot verify). */
export function signatureCheck(domain: string, record: unknown): SignatureCheck | null {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return null;
  const { signature, ...fields } = record as Record<string, unknown>;
  if (fields.alg !== 'Ed25519') return null;
  try {
    return { publicKey: fields.public_key, message: signingMessage(domain, fields), signature };
  } catch {
    return null;
  }
}

/**
 * Verify a signed record against the `public_key` it names. Returns false for anything
 * malformed; trust in that key (pinning) is the caller's separate question.
 */
export function verifyRecordSignature(domain: string, record: unknown): boolean {
  const check = signatureCheck(domain, record);
  return check !== null && verifyEd25519(check.publicKey, check.message, check.signature);
}
