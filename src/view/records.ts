// The evidence an event carries, field by field, for the details pane: its capability
// receipt, its secret handle (never the handle's id, and a log never holds a secret's
// value), a person's answer to an ask (and the session grant it gives), a descriptor's
// catalogue pin; and the signed checkpoints and the seal, for the summary. Hashes, keys
// and signatures are marked so that the page shows them short, with a copy button.
// Input distrusted: every field (the page shows them as text).

import { fingerprintOf } from '../crypto/index.js';
import type { CheckpointLine, SealEvent, SyscallEvent } from '../recorder/event.js';

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
        ['by', a.scope === 'session' ? 'the session grant given there' : 'that answer, once'],
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
      ['grants', a.scope === 'session' ? SESSION_GRANT : undefined],
      ['grant scope', a.grant_scope, true],
      ['note hash', a.note_sha256, true],
      ['cleared a compromised session', a.clear_compromised === true ? 'yes' : undefined],
      ['request hash', a.request_hash ?? event.syscall.target, true],
    ]),
  };
}

/** What a session grant covers (approvals.ts grantScope), said once. */
const SESSION_GRANT =
  'for the rest of the session: requests of the same kind, target, agent, rule and sinks, steered by the same control values, in the same session state';

/** What a descriptor's pin state means (the catalogue's, kernel/catalogue/tracker.ts). */
const PIN_MEANING: Record<string, string> = {
  'first-use': 'pinned now, on its first use (the server had no pins for it)',
  pinned: 'as pinned',
  changed:
    'changed since it was pinned: calls to it are refused until a person approves the change',
  new: 'new since the catalogue was pinned: calls to it are refused until a person approves it',
  renamed: 'renamed since the catalogue was pinned: refused until a person approves it',
  duplicate: 'listed twice in one listing: refused for the run',
};

/** A descriptor's pin state (a describe), or the pin a refused use met. */
function pinRecord(event: SyscallEvent): EvidenceRecord | null {
  const pin = (event.syscall.detail as { pin?: unknown } | undefined)?.pin;
  if (typeof pin !== 'string') return null;
  const { kind, target } = event.syscall;
  const slash = target.indexOf('/');
  const server = slash > 0 ? target.slice(0, slash) : '';
  const what = kind.slice(0, kind.indexOf('.'));
  const descriptor = kind.endsWith('.describe')
    ? event.syscall.inputs.find((input) => input.ref === 'content')?.sha256
    : undefined;
  return {
    title: kind.endsWith('.describe') ? `catalogue pin: ${pin}` : `refused by the pins: ${pin}`,
    fields: fields([
      ['server', server],
      [what, slash > 0 ? target.slice(slash + 1) : target],
      ['pin state', `${pin}: ${PIN_MEANING[pin] ?? 'a state this viewer does not know'}`],
      ['descriptor hash', descriptor, true],
      [
        'to accept it',
        pin === 'pinned' || pin === 'first-use' || server === ''
          ? undefined
          : `agentk pins approve --server-id ${server}`,
      ],
    ]),
  };
}

/** The pin state an event records (a describe, or a use the pins refused), or null. */
export function pinOf(event: SyscallEvent): string | null {
  const pin = (event.syscall.detail as { pin?: unknown } | undefined)?.pin;
  return typeof pin === 'string' ? pin : null;
}

/** A signed checkpoint of the chain that verified: what it signs, field by field. */
export function checkpointRecord(line: CheckpointLine, at: number): EvidenceRecord {
  const c = line.checkpoint;
  return {
    title: `signed checkpoint (line ${at})`,
    fields: fields([
      [
        'signs',
        `the first ${text(c.event_count)} events of the run, up to step ${text(c.event_count)}`,
      ],
      ['events covered', c.event_count],
      ['head hash', c.head_hash, true],
      ['run', c.run_id],
      ['signed at', c.ts],
      ['signed by', `${text(c.key_source)} key ${keyFingerprint(c.public_key)}`],
      ['public key', c.public_key, true],
      ['signature', c.signature, true],
      [
        'verified',
        'yes: its head hash is the hash of that step, its count follows the chain, its signature checks (as agentk verify-signatures checks it)',
      ],
    ]),
  };
}

/** The evidence records of an event beyond its receipt, in the order the pane shows them. */
export function evidenceRecords(event: SyscallEvent): EvidenceRecord[] {
  return [handleRecord(event), approvalRecord(event), pinRecord(event)].filter(
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
