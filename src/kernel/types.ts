// The typed syscall interface: one request shape per syscall kind, and the result the
// kernel hands back. Requests from untrusted code (an MCP client, a plugin) arrive as
// `unknown` and are checked by parseRequest() before anything else looks at them.

import type { Label } from '../labels/labels.js';
import type { ReceiptRecord, SecretHandleRecord, SyscallEvent } from '../recorder/event.js';
import type { SinkClass, SyscallKind, Verdict } from '../vocabulary.js';
import type { CatalogueKind } from './catalogue/pins.js';

/** A reference to something the kernel already knows, so its labels travel with it. */
export type InputRef =
  | { readonly page: string }
  | { readonly handle: string }
  | { readonly memory: string }
  | { readonly sha256: string; readonly labels?: readonly Label[] };

export interface RequestBase {
  /** What the syscall acts on: a URL, a path, `server/tool`, `secret://…`, an agent id. */
  readonly target: string;
  /** Why, in a few words (kept in the log; credential material is redacted). */
  readonly intent?: string;
  /** Labels the caller adds. They can only add restrictions; `trusted` is ignored. */
  readonly labels?: readonly Label[];
  /** Earlier pages, handles or memories this syscall uses. */
  readonly inputs?: readonly InputRef[];
}

/** Content enters the model's context. `content` is hashed and scanned, never logged. */
export interface ContextReadRequest extends RequestBase {
  readonly kind: 'context.read';
  readonly content?: string | Uint8Array;
}

export interface ModelCallRequest extends RequestBase {
  readonly kind: 'model.call';
  readonly prompt?: string;
}

export interface MemoryWriteRequest extends RequestBase {
  readonly kind: 'memory.write';
  readonly content: string | Uint8Array;
}

export interface DescribeRequest extends RequestBase {
  readonly kind: 'tool.describe' | 'resource.describe' | 'prompt.describe';
  readonly descriptor: unknown;
}

export interface InvokeRequest extends RequestBase {
  readonly kind: 'tool.invoke' | 'resource.read' | 'prompt.get';
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface ResponseRequest extends RequestBase {
  readonly kind: 'tool.response' | 'resource.response' | 'prompt.response';
  readonly content: unknown;
  readonly isError?: boolean;
}

export interface SecretOpenRequest extends RequestBase {
  readonly kind: 'secret.open';
  /** Capability patterns (`tool.invoke:git/*`) the handle may be redeemed for. */
  readonly scope?: readonly string[];
  readonly ttlMs?: number;
}

export interface NetworkSendRequest extends RequestBase {
  readonly kind: 'network.send';
  readonly method?: string;
  readonly body?: unknown;
}

export interface FilePatchRequest extends RequestBase {
  readonly kind: 'file.patch';
  /** A unified diff. Every path it touches must be the target or under it. */
  readonly diff: string;
}

/**
 * Two forms. An answer: `target` is the request hash of a pending `ask`, with `approver`
 * and `approved`. A question: `target` names who asks (e.g. `server/elicitation`) and
 * `question` is what a person would be shown; the kernel decides whether it may be.
 */
export type HumanApproveRequest = RequestBase & { readonly kind: 'human.approve' } & (
    | {
        readonly approver: string;
        readonly approved: boolean;
        readonly note?: string;
        readonly scope?: ApprovalScope;
        readonly clear_compromised?: boolean;
        readonly question?: never;
      }
    | {
        readonly question?: unknown;
        readonly approver?: never;
        readonly approved?: never;
        readonly note?: never;
        readonly scope?: never;
        readonly clear_compromised?: never;
      }
  );

export interface AgentSpawnRequest extends RequestBase {
  readonly kind: 'agent.spawn';
  /** `target` is the new child agent's id. */
  readonly task?: string;
}

export type SyscallRequest =
  | ContextReadRequest
  | ModelCallRequest
  | MemoryWriteRequest
  | DescribeRequest
  | InvokeRequest
  | ResponseRequest
  | SecretOpenRequest
  | NetworkSendRequest
  | FilePatchRequest
  | HumanApproveRequest
  | AgentSpawnRequest;

/** A context page: content that entered the model's context, by hash and labels. */
export interface ContextPage {
  readonly id: string;
  readonly sha256: string;
  readonly source: string;
  readonly labels: readonly Label[];
  readonly step: number;
  readonly agent: string;
}

/** Which page gave an argument its labels. */
export interface ProvenanceHit {
  readonly arg: string;
  readonly page: string;
  readonly pageSha256: string;
  readonly labels: readonly Label[];
}

export interface SyscallResult {
  readonly step: number;
  readonly agent: string;
  readonly kind: string;
  readonly target: string;
  readonly verdict: Verdict;
  readonly allowed: boolean;
  readonly rule: string;
  readonly reason: string;
  readonly missingCapability: string | null;
  readonly labels: readonly Label[];
  /** Labels of the control arguments alone (targets, URLs, recipients, paths, commands). */
  readonly controlLabels: readonly Label[];
  readonly sinks: readonly SinkClass[];
  readonly receipt: ReceiptRecord | null;
  readonly secretHandle: SecretHandleRecord | null;
  /** Hash of the exact request: what an approval binds to. */
  readonly requestHash: string;
  /** The page this syscall put into context (reads, responses, descriptors), if allowed. */
  readonly page: ContextPage | null;
  /** The child agent's id, for an allowed `agent.spawn`. */
  readonly child: string | null;
  readonly provenance: readonly ProvenanceHit[];
  readonly event: SyscallEvent;
}

/** What an approver is shown for an `ask`. */
export interface ApprovalRequest {
  readonly requestHash: string;
  readonly agent: string;
  readonly kind: SyscallKind;
  readonly target: string;
  readonly intent: string;
  readonly labels: readonly Label[];
  readonly rule: string;
  readonly reason: string;
}

export interface ApprovalAnswer {
  readonly approved: boolean;
  readonly approver: string;
  readonly note?: string;
  /**
   * `once` (default): this exact request, once. `session`: for the rest of the session
   * (bounded by SESSION_GRANT_TTL_MS), every request of the same kind to the same target by
   * the same agent whose control arguments carry the same values (content may differ).
   */
  readonly scope?: ApprovalScope;
  /**
   * The person also clears the session's compromise: content that looked like an injection
   * was checked, and the session's `poisoned-suspect` context label is dropped (a new such
   * page sets it again). Values copied from that content stay labelled.
   */
  readonly clearCompromised?: boolean;
}

export type ApprovalScope = 'once' | 'session';

export type Approver = (request: ApprovalRequest) => ApprovalAnswer | Promise<ApprovalAnswer>;

/** What the harness, not the request, decides about a syscall. */
export interface SyscallOptions {
  /** The spawned agent that acts; defaults to the root agent. */
  readonly agent?: string;
  /**
   * The caller can put an `ask` to a person itself (an MCP client with elicitation): the
   * ask is recorded as pending rather than turned into a deny.
   */
  readonly canAsk?: boolean;
  /**
   * The catalogue listing a describe comes from (a proxy's `resources/templates/list` is
   * `templates`): the catalogue it is pinned in, never guessed from the descriptor's shape.
   */
  readonly catalogue?: CatalogueKind;
  /**
   * The harness has already refused this syscall (a sandbox's network allow-list refused a
   * server's connection): it is recorded as a deny with this rule and reason, before the
   * policy is consulted. It can only refuse, never allow. The rule is a `kernel.*` id
   * (reserved: no policy rule has one); any other throws a TypeError.
   */
  readonly refusal?: { readonly rule: string; readonly reason: string };
}

/** What Kernel.answer() gives back: the answer as the client may see it, and its syscall. */
export interface Answered {
  /** The answer with credential material replaced by secret handles. */
  readonly content: unknown;
  readonly handles: readonly SecretHandleRecord[];
  readonly result: SyscallResult;
}
