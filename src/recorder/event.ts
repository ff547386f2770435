// The flight-log event format (docs/flight-log.md). One JSON object per line in JCS form.
// The writer builds these; the verifier parses them back from `unknown`.

import type { Label } from '../labels/labels.js';
import type { Verdict } from '../vocabulary.js';

/**
 * Format 2: receipts are authenticated by signed checkpoints of the chain (and the seal),
 * not signed one by one. Format 1 logs, whose receipts each carry a signature, still verify.
 */
export const EVENT_FORMAT_VERSION = 2;
export type EventFormatVersion = 1 | 2;
export const GENESIS_HASH = '0'.repeat(64);
export const EVENT_HASH_DOMAIN = 'agentk/event/v1';

/** Hash evidence for one input of a syscall: never the raw value. */
export interface InputEvidence {
  /** What the input is: `page:p3`, `handle:secret_fd_…`, `memory:notes`, `arg:command`, `content`. */
  readonly ref: string;
  readonly sha256: string;
  readonly labels?: readonly Label[];
}

export interface SyscallRecord {
  readonly kind: string;
  readonly target: string;
  readonly intent: string;
  readonly labels: readonly Label[];
  /** Labels of the control arguments alone. */
  readonly control_labels: readonly Label[];
  readonly inputs: readonly InputEvidence[];
  readonly capability: string;
  readonly sinks: readonly string[];
  /** Kind-specific evidence (patch stats, approval, spawn, provenance), hashes only. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/**
 * A capability receipt: what the kernel allowed, bound to its place in the chain. From
 * format 2 it is authenticated by the checkpoint or seal that covers its event; format 1
 * receipts also carry their own signature (`alg`, `key_source`, `public_key`, `signature`).
 */
export interface ReceiptRecord {
  readonly id: string;
  readonly agent_id: string;
  readonly run_id: string;
  readonly step: number;
  readonly syscall: string;
  readonly target: string;
  readonly scope: string;
  readonly issued_at: string;
  readonly expires_at: string;
  readonly previous_hash: string;
  /** Format 1 only. */
  readonly alg?: 'Ed25519';
  readonly key_source?: string;
  readonly public_key?: string;
  readonly signature?: string;
}

export interface SecretHandleRecord {
  readonly id: string;
  readonly alg: 'Ed25519';
  readonly receipt_id: string;
  readonly target: string;
  readonly scope: readonly string[];
  readonly labels: readonly Label[];
  readonly issued_at: string;
  readonly expires_at: string;
  readonly key_source: string;
  readonly public_key: string;
  readonly signature: string;
}

export interface DecisionRecord {
  /** What happened: `ask` resolves to `allow` (approved) or `deny` (no approver, refused). */
  readonly verdict: Verdict;
  /** What the deciding rule said, before any approval: allow, deny or ask. */
  readonly effect: Verdict;
  readonly rule: string;
  readonly reason: string;
  readonly missing_capability: string | null;
  readonly receipt: ReceiptRecord | null;
  readonly secret_handle: SecretHandleRecord | null;
  /** Hash of the exact request; an approval binds to it. */
  readonly request_hash: string;
  /** Shadow mode: what the shadow policy would have decided (never enforced). */
  readonly shadow?: { readonly effect: Verdict; readonly rule: string };
}

export interface EventBase {
  readonly v: EventFormatVersion;
  readonly step: number;
  readonly ts: string;
  readonly run_id: string;
  readonly agent_id: string;
  readonly previous_hash: string;
  readonly event_hash: string;
}

export interface SyscallEvent extends EventBase {
  readonly type: 'syscall';
  readonly syscall: SyscallRecord;
  readonly decision: DecisionRecord;
}

/** A signature over the head of the chain: `event_count` events ending in `head_hash`. */
export interface SignedHead {
  readonly run_id: string;
  readonly ts: string;
  readonly event_count: number;
  readonly head_hash: string;
  readonly alg: 'Ed25519';
  readonly key_source: string;
  readonly public_key: string;
  readonly signature: string;
}

/** The seal: the signed head of a run that ended, by the agent that closed it. */
export interface SealRecord extends SignedHead {
  readonly agent_id: string;
}

export interface SealEvent extends EventBase {
  readonly type: 'seal';
  readonly seal: SealRecord;
}

/**
 * What a sandboxed (or best-effort unsandboxed) downstream server runs under, written once
 * after the trace opens, or a limit it hit, written when it dies of one (docs/sandbox.md).
 * JSON data whose members docs/flight-log.md lists; the chain covers it like any event.
 */
export type SandboxRecord = Readonly<Record<string, unknown>> & {
  readonly event: 'start' | 'limit';
  readonly server_id: string;
};

/** The sandbox of a downstream server: not a syscall (nothing asked, nothing decided). */
export interface SandboxEvent extends EventBase {
  readonly type: 'sandbox';
  readonly sandbox: SandboxRecord;
}

export type FlightEvent = SyscallEvent | SealEvent | SandboxEvent;

/**
 * A signed statement that the chain held `event_count` events ending in `head_hash`
 * (format 2). Not an event: it takes no step and is not chained, so where the signing
 * thread's answer lands between events changes nothing else in the log; every receipt of
 * the events it covers is authenticated by it.
 */
export type CheckpointRecord = SignedHead;

/**
 * A checkpoint whose signature comes back more than this many events behind the head is
 * dropped and signed again: a verifier remembers twice as many recent hashes to check one.
 */
export const MAX_CHECKPOINT_LAG = 16_384;

/** The line a checkpoint is written as. */
export interface CheckpointLine {
  readonly v: 2;
  readonly type: 'checkpoint';
  readonly checkpoint: CheckpointRecord;
}

/** An event before the recorder assigns its place in the chain. */
export type UnchainedEvent =
  | Omit<SyscallEvent, 'step' | 'previous_hash' | 'event_hash' | 'v'>
  | Omit<SealEvent, 'step' | 'previous_hash' | 'event_hash' | 'v'>
  | Omit<SandboxEvent, 'step' | 'previous_hash' | 'event_hash' | 'v'>;
