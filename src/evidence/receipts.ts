// Capability receipts and secret handles: the one-shot proofs that the kernel allowed
// exactly this syscall (receipt) or opened exactly this secret (handle). Both are bound to
// the run, the agent, the step and the previous event hash, so a receipt cannot be
// replayed into another log position, and a handle cannot be moved to another receipt.
// A receipt is authenticated by the signed checkpoint that covers its event; a handle,
// which leaves the log as a token, carries its own signature.

import { randomHex, type Signer } from '../crypto/index.js';
import { HANDLE_DOMAIN, signRecord } from '../crypto/signing.js';
import { labelsOf, PRIVATE, SECRET } from '../labels/labels.js';
import type { ReceiptRecord, SecretHandleRecord } from '../recorder/event.js';

export const RECEIPT_PREFIX = 'rcpt_';
export const HANDLE_PREFIX = 'secret_fd_';
/**
 * A secret-handle id. One regex for every call: findHandles resets its lastIndex and calls
 * nothing while it loops, and replace() finds every match before it calls `replace`.
 */
const HANDLE = /\bsecret_fd_[0-9a-f]{32}\b/g;

/** The secret-handle ids in a text. */
export function findHandles(text: string): string[] {
  if (!text.includes(HANDLE_PREFIX)) return [];
  const out: string[] = [];
  HANDLE.lastIndex = 0;
  for (let match = HANDLE.exec(text); match; match = HANDLE.exec(text)) out.push(match[0]);
  return out;
}

/** Replace each secret-handle id in a text. */
export function replaceHandles(text: string, replace: (handle: string) => string): string {
  if (!text.includes(HANDLE_PREFIX)) return text;
  return text.replace(HANDLE, replace);
}

export interface ReceiptBinding {
  readonly agent_id: string;
  readonly run_id: string;
  readonly step: number;
  readonly syscall: string;
  readonly target: string;
  readonly previous_hash: string;
  readonly issued_at: string;
  readonly expires_at: string;
}

/**
 * A receipt bound to its place in the chain. Unsigned: the checkpoint or seal that covers
 * its event authenticates it (format 2); it never leaves the log as a token.
 */
export function mintReceipt(binding: ReceiptBinding): ReceiptRecord {
  // Members in canonical (sorted) order: the encoder serialises them as they are.
  return {
    agent_id: binding.agent_id,
    expires_at: binding.expires_at,
    id: `${RECEIPT_PREFIX}${randomHex(16)}`,
    issued_at: binding.issued_at,
    previous_hash: binding.previous_hash,
    run_id: binding.run_id,
    scope: `${binding.syscall}:${binding.target}`,
    step: binding.step,
    syscall: binding.syscall,
    target: binding.target,
  };
}

export interface HandleBinding {
  readonly receipt_id: string;
  readonly target: string;
  readonly scope: readonly string[];
  readonly issued_at: string;
  readonly expires_at: string;
}

export function mintSecretHandle(signer: Signer, binding: HandleBinding): SecretHandleRecord {
  return signRecord(signer, HANDLE_DOMAIN, {
    id: `${HANDLE_PREFIX}${randomHex(16)}`,
    alg: signer.algorithm,
    receipt_id: binding.receipt_id,
    target: binding.target,
    scope: [...binding.scope],
    labels: labelsOf(SECRET | PRIVATE),
    issued_at: binding.issued_at,
    expires_at: binding.expires_at,
    key_source: signer.source,
    public_key: signer.publicKey,
  });
}
