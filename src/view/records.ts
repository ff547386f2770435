// The evidence an event carries, field by field, for the details pane: its capability
// receipt, its secret handle (never the handle's id, and a log never holds a secret's
// value), and a person's answer to an ask; and the seal, for the summary. Hashes, keys and signatures are marked so that
// the page shows them short, with a copy button.
// Input distrusted: every field (the page shows them as text).

import { fingerprintOf } from '../crypto/index.js';
import type { SealEvent, SyscallEvent } from '../recorder/event.js';

/** A field: its name, its value as text, and whether it is a hash, key or signature. */
export type RecordField = readonly [name: string, value: string, hash: boolean];

export interface EvidenceRecord {
  readonly title: string;
  readonly fields: readonly RecordField[];
}

const text = (value: unknown): string =>
  typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);

/** The fields that are there, as text; empty values left out. */
function fields(items: readonly [string, unknown, boolean?][]): RecordField[] {
  return items
    .map(([name, value, hash]): RecordField => [name, text(value), hash === true])
    .filter(([, value]) => value !== '');
}

function keyFingerprint(key: unknown): string {
  try {
    return typeof key === 'string' ? fingerprintOf(key) : '';
  } catch {
    return '';
  }
}

/**
 * An event's receipt, packed: only what the event does not already say. A receipt's
 * syscall, target, scope, step, agent, run and previous hash are checked equal to its
 * event's (verify-signatures' binding), so the page shows them from the event; this is its
 * id, its issue time (null when it is the event's time), its expiry, and for a format 1
 * receipt what signed it and the signature.
 */
export function packedReceipt(event: SyscallEvent): (string | null)[] | null {
  const r = event.decision.receipt;
  if (r === null || typeof r !== 'object') return null;
  const signed = r.signature !== undefined;
  const packed = [
    text(r.id),
    r.issued_at === event.ts ? null : text(r.issued_at),
    text(r.expires_at),
    signed ? `its own signature (${text(r.key_source)} key ${keyFingerprint(r.public_key)})` : null,
    signed ? text(r.signature) : null,
  ];
  while (packed.length > 3 && packed[packed.length - 1] === null) packed.pop();
  return packed;
}

function handleRecord(event: SyscallEvent): EvidenceRecord | null {
  const h = event.decision.secret_handle;
  if (h === null || typeof h !== 'object') return null;
  return {
    title: 'secret handle (its id and the secret are not shown)',
    fields: fields([
      ['secret', h.target],
      ['usable for', Array.isArray(h.scope) ? h.scope.join(', ') : h.scope],
      ['labels', Array.isArray(h.labels) ? h.labels.join(', ') : h.labels],
      ['bound to receipt', h.receipt_id],
      ['issued', h.issued_at],
      ['expires', h.expires_at],
      ['signed by', `${text(h.key_source)} key ${keyFingerprint(h.public_key)}`],
      ['signature', h.signature, true],
    ]),
  };
}

/** A person's answer (human.approve), or on an approved event, who approved it where. */
function approvalRecord(event: SyscallEvent): EvidenceRecord | null {
  const approval = (event.syscall.detail as { approval?: unknown } | undefined)?.approval;
  if (approval === null || typeof approval !== 'object') return null;
  const a = approval as Record<string, unknown>;
  if (event.syscall.kind !== 'human.approve') {
    return {
      title: 'approved by a person',
      fields: fields([
        ['approver', a.approver],
        ['answer at step', a.step],
      ]),
    };
  }
  const request = (a.request ?? {}) as Record<string, unknown>;
  return {
    title: 'a person’s answer to an ask',
    fields: fields([
      ['approver', a.approver],
      ['answer', a.approved === true ? 'allowed' : a.approved === false ? 'refused' : a.approved],
      ['for', a.scope === 'session' ? 'the rest of the session' : 'this request once'],
      ['request', `${text(request.kind)} ${text(request.target)} (step ${text(request.step)})`],
      ['note', a.note],
      ['cleared a compromised session', a.clear_compromised === true ? 'yes' : undefined],
      ['request hash', a.request_hash ?? event.syscall.target, true],
    ]),
  };
}

/** The evidence records of an event beyond its receipt, in the order the pane shows them. */
export function evidenceRecords(event: SyscallEvent): EvidenceRecord[] {
  return [handleRecord(event), approvalRecord(event)].filter(
    (record): record is EvidenceRecord => record !== null,
  );
}

/** The seal that closed the log (shown only when the log verifies). */
export function sealRecord(event: SealEvent): EvidenceRecord {
  const seal = event.seal;
  return {
    title: 'the seal',
    fields: fields([
      ['sealed', seal.ts],
      ['by agent', seal.agent_id],
      ['events covered', seal.event_count],
      ['head hash', seal.head_hash, true],
      ['signed by', `${text(seal.key_source)} key ${keyFingerprint(seal.public_key)}`],
      ['public key', seal.public_key, true],
      ['signature', seal.signature, true],
      ['seal line hash', event.event_hash, true],
    ]),
  };
}
