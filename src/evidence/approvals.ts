// Out-of-band approvals: `agentk approve <request-hash>` writes a signed approval file for
// one pending request, under `.agentk/approvals/<hash>.json`; the MCP proxy, when the
// agent retries that exact request, finds the file, checks it, records the approval as a
// human.approve syscall, and spends the file. The file must be signed by the same key
// that signs the run's evidence, and it expires.
// Limit: anyone who can run agentk with that key can approve; keep the key (and the
// agentk command) out of the agent's reach.
// Input distrusted: approval files.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Signer } from '../crypto/index.js';
import { APPROVAL_DOMAIN, signRecord, verifyRecordSignature } from '../crypto/signing.js';

export const APPROVAL_TTL_MS = 60 * 60 * 1000;

export interface ApprovalFile {
  readonly request_hash: string;
  readonly approver: string;
  readonly approved: true;
  /** `session`: the grant holds for the session's same tool and targets (kernel approvals). */
  readonly scope?: 'session';
  /** The approver also clears the session's compromise (kernel approvals). */
  readonly clear_compromised?: true;
  readonly issued_at: string;
  readonly expires_at: string;
  readonly alg: 'Ed25519';
  readonly key_source: string;
  readonly public_key: string;
  readonly signature: string;
}

const HASH = /^[0-9a-f]{64}$/;

/** What an approval file grants besides the one request (kernel approvals). */
export interface ApprovalGrant {
  /** `session`: the same tool and targets for the session, not only this request. */
  readonly scope?: 'once' | 'session';
  /** The approver also clears the session's compromise. */
  readonly clearCompromised?: boolean;
}

export function writeApproval(
  dir: string,
  requestHash: string,
  approver: string,
  signer: Signer,
  now: number,
  { scope = 'once', clearCompromised = false }: ApprovalGrant = {},
): string {
  if (!HASH.test(requestHash)) throw new RangeError('request hash must be 64 lowercase hex digits');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const record = signRecord(signer, APPROVAL_DOMAIN, {
    request_hash: requestHash,
    approver,
    approved: true as const,
    ...(scope === 'session' ? { scope: 'session' as const } : {}),
    ...(clearCompromised ? { clear_compromised: true as const } : {}),
    issued_at: new Date(now).toISOString(),
    expires_at: new Date(now + APPROVAL_TTL_MS).toISOString(),
    alg: signer.algorithm,
    key_source: signer.source,
    public_key: signer.publicKey,
  });
  const path = join(dir, `${requestHash}.json`);
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** What an approval file grants (the kernel takes it as an ApprovalAnswer). */
export interface FileApproval {
  readonly approved: true;
  readonly approver: string;
  readonly note: string;
  readonly scope?: 'session';
  readonly clearCompromised?: true;
}

/**
 * An approval source for the kernel: a valid, unexpired file signed by `signer`'s key for
 * that request hash is answered once (then renamed `.used`); anything else, never.
 */
export function approvalFiles(dir: string, signer: Signer, clock: () => number = Date.now) {
  return (requestHash: string): FileApproval | null => {
    if (!HASH.test(requestHash)) return null;
    const path = join(dir, `${requestHash}.json`);
    if (!existsSync(path)) return null;
    let record: Partial<ApprovalFile>;
    try {
      record = JSON.parse(readFileSync(path, 'utf8')) as Partial<ApprovalFile>;
    } catch {
      return null;
    }
    const now = clock();
    const valid =
      record.request_hash === requestHash &&
      record.approved === true &&
      typeof record.approver === 'string' &&
      record.public_key === signer.publicKey &&
      verifyRecordSignature(APPROVAL_DOMAIN, record) &&
      Date.parse(record.issued_at ?? '') <= now &&
      now <= Date.parse(record.expires_at ?? '');
    if (!valid) return null;
    try {
      renameSync(path, `${path}.used`);
    } catch {
      return null; // someone else spent it first
    }
    return {
      approved: true,
      approver: String(record.approver).slice(0, 200),
      note: 'agentk approve',
      ...(record.scope === 'session' ? { scope: 'session' as const } : {}),
      ...(record.clear_compromised === true ? { clearCompromised: true as const } : {}),
    };
  };
}
