// The evidence stage: how a syscall is named in the log (credential material redacted),
// the hash of its exact request (what an approval binds to), the receipt of an
// allowed action and the signed secret handle of an opened secret, and the event records the
// flight recorder chains and appends before anything takes effect.

import { canonicalSha256 } from '../../crypto/canonical-bytes.js';
import type { Signer } from '../../crypto/index.js';
import { mintReceipt, mintSecretHandle } from '../../evidence/receipts.js';
import { type LabelMask, labelsOf } from '../../labels/labels.js';
import { isoTimeText } from '../../memo.js';
import type {
  DecisionRecord,
  ReceiptRecord,
  SandboxRecord,
  SecretHandleRecord,
  SyscallRecord,
} from '../../recorder/event.js';
import type { SecretStore } from '../../secrets/store.js';
import { isSyscallKind, OBSERVATION_KINDS, sinksOf } from '../../vocabulary.js';
import type { Analysis } from '../analysis/analysis.js';
import { recordedValues } from '../analysis/values.js';
import type { Decision, DecisionSubject } from '../decision/decide.js';
import { loggable } from '../loggable.js';
import type { ParsedRequest } from '../request.js';
import type { SyscallRequest } from '../types.js';

export const DEFAULT_RECEIPT_TTL_MS = 5 * 60_000;
export const DEFAULT_HANDLE_TTL_MS = 15 * 60_000;
/** An event's time (`ts`, a receipt's `issued_at`) as text, once per millisecond. */
export const eventTime = isoTimeText();
const receiptExpiry = isoTimeText();
const handleExpiry = isoTimeText();
const REQUEST_DOMAIN = 'agentk/request/v1';

/** Request fields that are content (kept in the log only as input hashes). */
const CONTENT_FIELDS = new Set([
  'kind',
  'target',
  'intent',
  'inputs',
  'content',
  'args',
  'body',
  'diff',
  'descriptor',
  'prompt',
  'question',
  'task',
  'note',
]);

/**
 * The fields of a request that shape what it does but are not content (content is in the
 * input hashes): labels, scope, ttlMs, method, approval answers, isError.
 */
function requestShape(request: SyscallRequest): Record<string, unknown> {
  const shape: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (!CONTENT_FIELDS.has(key) && value !== undefined) shape[key] = value;
  }
  return shape;
}

/** A syscall as the log names it, and as the decision stage sees it. */
export interface Subject extends DecisionSubject {
  readonly agent: string;
  /** The kind as requested (any string, for a kind the kernel does not know). */
  readonly kindText: string;
  readonly loggedKind: string;
  readonly loggedTarget: string;
  readonly intent: string;
  readonly loggedCapability: string;
}

/** Name a syscall for the log and hash its exact request (everything that shapes it). */
export function subjectOf(
  parsed: ParsedRequest,
  agent: string,
  analysis: Analysis,
  granted: (capability: string) => boolean,
  how: {
    readonly canAsk: boolean;
    readonly now: number;
    /** Removes the secrets the kernel has captured from text the log keeps. */
    readonly scrub: (text: string) => string;
    /**
     * The directory the server resolves relative paths in (KernelOptions.cwd): part of the
     * request's hash, so that an approval given in one workspace is not spent in another.
     */
    readonly workspace?: string | undefined;
  },
): Subject {
  const kindText = parsed.ok ? parsed.request.kind : parsed.kind;
  const kind = isSyscallKind(kindText) ? kindText : null;
  const loggedKind = kind ?? loggable(kindText, 64);
  const target = parsed.ok ? parsed.request.target : parsed.target;
  const loggedTarget = how.scrub(loggable(target, 4096));
  const intent = parsed.ok ? how.scrub(loggable(parsed.request.intent ?? '', 512)) : '';
  const capability = `${kindText}:${target}`;
  const requestHash = canonicalSha256(
    {
      agent,
      kind: loggedKind,
      target: target.toWellFormed(),
      intent,
      inputs: analysis.inputs,
      shape: parsed.ok ? requestShape(parsed.request) : {},
      workspace: how.workspace?.toWellFormed(),
    },
    REQUEST_DOMAIN,
  );
  return {
    agent,
    kind,
    kindText,
    loggedKind,
    target,
    loggedTarget,
    intent,
    capability,
    // What the log keeps: the same capability with credential material redacted.
    loggedCapability: `${loggedKind}:${loggedTarget}`,
    capabilityGranted: kind !== null && granted(capability),
    requestHash,
    canAsk: how.canAsk,
    now: how.now,
  };
}

/** Where the event will sit in the chain, and when. */
export interface Place {
  readonly runId: string;
  readonly step: number;
  readonly previousHash: string;
  readonly now: number;
  readonly ts: string;
}

export interface Minted {
  readonly receipt: ReceiptRecord | null;
  readonly handle: SecretHandleRecord | null;
  /** Where the handle's bytes are, and until when it lives. */
  readonly handleStore: SecretStore | null;
  readonly handleExpiresAt: number;
}

const NOTHING_MINTED: Minted = {
  receipt: null,
  handle: null,
  handleStore: null,
  handleExpiresAt: 0,
};

/**
 * Mint what an allowed action carries: a receipt bound to the run, the step and the
 * previous event hash, and for an opened secret a handle bound to that receipt.
 */
export function mintEvidence(
  signer: Signer,
  subject: Subject,
  parsed: ParsedRequest,
  decision: Decision,
  place: Place,
  options: { receiptTtlMs: number; storeFor: (target: string) => SecretStore | undefined },
): Minted {
  const { kind } = subject;
  if (decision.verdict !== 'allow' || kind === null || OBSERVATION_KINDS.has(kind)) {
    return NOTHING_MINTED;
  }
  const receipt = mintReceipt({
    agent_id: subject.agent,
    run_id: place.runId,
    step: place.step,
    syscall: kind,
    target: subject.loggedTarget,
    previous_hash: place.previousHash,
    issued_at: place.ts,
    expires_at: receiptExpiry(place.now + options.receiptTtlMs),
  });
  const request = parsed.ok ? parsed.request : null;
  const store = request?.kind === 'secret.open' ? options.storeFor(subject.target) : undefined;
  if (request?.kind !== 'secret.open' || !store) {
    return { ...NOTHING_MINTED, receipt };
  }
  const handleExpiresAt = place.now + (request.ttlMs ?? DEFAULT_HANDLE_TTL_MS);
  const handle = mintSecretHandle(signer, {
    receipt_id: receipt.id,
    target: subject.loggedTarget,
    scope: request.scope ?? ['tool.invoke:*'],
    issued_at: place.ts,
    expires_at: handleExpiry(handleExpiresAt),
  });
  return { receipt, handle, handleStore: store, handleExpiresAt };
}

/** The syscall and decision records of the event. */
export function eventRecords(
  subject: Subject,
  analysis: Analysis,
  decision: Decision,
  minted: Minted,
  contextLabels: LabelMask,
  scrub: (text: string) => string,
): { syscall: SyscallRecord; decision: DecisionRecord } {
  // Members in canonical (sorted) order: the encoder then serialises them as they are.
  return {
    decision: {
      effect: decision.effect,
      missing_capability:
        subject.kind !== null && !subject.capabilityGranted ? subject.loggedCapability : null,
      reason: decision.reason,
      receipt: minted.receipt,
      request_hash: subject.requestHash,
      rule: decision.rule,
      secret_handle: minted.handle,
      ...(decision.shadow ? { shadow: decision.shadow } : {}),
      verdict: decision.verdict,
    },
    syscall: {
      capability: subject.loggedCapability,
      control_labels: labelsOf(analysis.control),
      detail: {
        ...analysis.detail,
        context_labels: labelsOf(contextLabels),
        // What rules that see arguments matched: fork-replay matches other rules against it.
        ...(analysis.values ? { values: recordedValues(analysis.values, scrub) } : {}),
        ...(analysis.provenance.length > 0
          ? {
              provenance: analysis.provenance.map((hit) => ({
                arg: hit.arg,
                labels: hit.labels,
                page: hit.page,
                page_sha256: hit.pageSha256,
              })),
            }
          : {}),
      },
      inputs: analysis.inputs,
      intent: subject.intent,
      kind: subject.loggedKind,
      labels: labelsOf(analysis.labels),
      sinks: sinksOf(analysis.sinks),
      target: subject.loggedTarget,
    },
  };
}

/**
 * The syscall event the recorder chains (it adds the chain fields to this object). One
 * literal, not `{ ...entry, ...records }`: V8 gives an object built by spreading and then
 * adding a new hidden class every time, and this one is built for every syscall.
 */
export function syscallEntry(
  ts: string,
  runId: string,
  agent: string,
  records: { syscall: SyscallRecord; decision: DecisionRecord },
) {
  return {
    type: 'syscall',
    ts,
    run_id: runId,
    agent_id: agent,
    syscall: records.syscall,
    decision: records.decision,
  } as const;
}

/** A sandbox event before the recorder chains it (kernel.recordSandbox). */
export function sandboxEntry(ts: string, runId: string, agent: string, sandbox: SandboxRecord) {
  return { type: 'sandbox', ts, run_id: runId, agent_id: agent, sandbox } as const;
}
