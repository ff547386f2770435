// The kernel: every action an agent takes is one syscall through Kernel.syscall(). It
// derives labels itself (sources, content scans, value provenance, the session's context
// label), lets the policy decide, mints signed receipts and secret handles, and appends
// the event to the flight log *before* returning, so the caller's effect always follows
// its evidence. If the event cannot be recorded, syscall() throws and nothing is allowed.
// Input distrusted: every request (see parseRequest) and every byte of content.

import { canonicalize } from '../crypto/canonical.js';
import { domainHash, type Signer, sha256Hex } from '../crypto/index.js';
import { AgentkError } from '../errors.js';
import { loadSigner } from '../evidence/keys.js';
import { findHandles, mintReceipt, mintSecretHandle } from '../evidence/receipts.js';
import {
  INTEGRITY_TAINT,
  joinMasks,
  type Label,
  type LabelMask,
  labelsOf,
  maskOf,
  POISONED,
  PRIVATE,
  restrictionsOnly,
  SECRET,
  TRUSTED,
  UNTRUSTED,
} from '../labels/labels.js';
import { CompiledPolicy } from '../policy/compile.js';
import { globMatch } from '../policy/glob.js';
import { annotationSinks, nameWords, sourceHeuristics } from '../policy/sinks.js';
import type { Policy } from '../policy/types.js';
import {
  containsSecret,
  findSecrets,
  looksInjected,
  redactSecrets,
  type Span,
} from '../provenance/detect.js';
import {
  decodeBudget,
  decodedBlob,
  decodedForms,
  extractValues,
  stringsOf,
  ValueIndex,
  type ValueOrigin,
} from '../provenance/values.js';
import type {
  DecisionRecord,
  InputEvidence,
  ReceiptRecord,
  SealEvent,
  SecretHandleRecord,
  SyscallEvent,
  SyscallRecord,
} from '../recorder/event.js';
import { FlightRecorder } from '../recorder/recorder.js';
import { type Durability, FileSink, type LogSink, MemorySink } from '../recorder/sink.js';
import { CapturedSecretStore, type SecretStore } from '../secrets/store.js';
import {
  isSyscallKind,
  OBSERVATION_KINDS,
  SINK_DESTRUCTIVE,
  SINK_EGRESS,
  SINK_EXEC,
  type SinkMask,
  type SyscallKind,
  sinksOf,
  type Verdict,
} from '../vocabulary.js';
import { patchStats, patchWithinTarget } from './patch.js';
import { type CatalogueKind, CatalogueTracker, type PinState, type PinStore } from './pins.js';
import { parseRequest } from './request.js';
import type {
  ApprovalAnswer,
  Approver,
  ContextPage,
  InputRef,
  ProvenanceHit,
  SyscallRequest,
  SyscallResult,
} from './types.js';

/**
 * Captured secrets looked for, raw, in everything headed to the client (each costs a scan
 * of every answer). Beyond this many, later captures are found only by their patterns.
 */
const MAX_KNOWN_ECHOES = 10_000;

export const DEFAULT_RECEIPT_TTL_MS = 5 * 60_000;
export const DEFAULT_HANDLE_TTL_MS = 15 * 60_000;
const MAX_SCANNED_CONTENT = 32 * 1024 * 1024;
const MAX_PROVENANCE_HITS = 32;
const MAX_CATALOG = 100_000;
/** Live receipts kept for redemption; beyond, the oldest go (see #pruneReceipts). */
const MAX_LIVE_RECEIPTS = 65_536;
/** Context pages kept for provenance reports and `{page}` inputs. */
const MAX_PAGES = 65_536;
const NO_HANDLES: readonly string[] = [];
const CATALOGUE_OF: Partial<Record<SyscallKind, CatalogueKind>> = {
  'tool.describe': 'tools',
  'tool.invoke': 'tools',
  'resource.describe': 'resources',
  'resource.read': 'resources',
  'prompt.describe': 'prompts',
  'prompt.get': 'prompts',
};
/** Structured content with more strings than this is refused, never scanned in part. */
const MAX_SCANNED_STRINGS = 100_000;
const REQUEST_DOMAIN = 'agentk/request/v1';

export interface KernelOptions {
  /** A parsed policy (see loadPolicyFile) or a compiled one. */
  readonly policy: Policy | CompiledPolicy;
  /** The root agent's id; defaults to the policy's `[agent] id`. */
  readonly agentId?: string;
  /** Where the flight log goes: a new file, a sink of your own, or (default) memory. */
  readonly trace?:
    | { readonly path: string; readonly durability?: Durability }
    | { readonly sink: LogSink };
  /** The evidence signer; defaults to loadSigner() (environment, key file, development key). */
  readonly signer?: Signer;
  /** Stores that can serve `secret.open` targets. None: every secret.open is denied. */
  readonly secretStores?: readonly SecretStore[];
  /** Capability patterns granted by the embedding code, on top of the policy's. */
  readonly grants?: readonly string[];
  /**
   * Catalogue pins: descriptors are checked against the pinned catalogue of their server
   * (the part of the target before the first `/`), and calls to new or changed ones are
   * refused until approved. Without a store, nothing is pinned.
   */
  readonly pins?: PinStore;
  /**
   * A second policy every syscall is also decided under, enforcing nothing: its decision
   * is recorded beside the real one (shadow mode, for trying a policy on live traffic).
   */
  readonly shadowPolicy?: Policy | CompiledPolicy;
  /**
   * Approvals given out of band, by request hash (the MCP proxy reads the signed files of
   * `agentk approve`). Consulted for a request that was asked before and is retried; an
   * answer is recorded as a human.approve syscall and allows that request once.
   */
  readonly approvalSource?: (requestHash: string) => ApprovalAnswer | null;
  /** Answers `ask` decisions. Without one, an `ask` is recorded as a deny that says why. */
  readonly approver?: Approver;
  readonly runId?: string;
  readonly receiptTtlMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly clock?: () => number;
}

interface Session {
  readonly id: string;
  readonly parent: string | null;
  context: LabelMask;
}

interface StoredPage extends ContextPage {
  readonly mask: LabelMask;
}

interface IssuedHandle {
  readonly record: SecretHandleRecord;
  readonly store: SecretStore;
  readonly expiresAt: number;
}

/** What redeeming a receipt needs (the signed record itself is in the log). */
interface IssuedReceipt {
  readonly scope: string;
  readonly expiresAt: number;
  readonly sinks: SinkMask;
  readonly handles: readonly string[];
  spent: boolean;
  revealed: Set<string> | null;
}

/** Everything the kernel derived about a request before the policy looks at it. */
interface Analysis {
  labels: LabelMask;
  /** Labels of the control arguments alone (targets, URLs, recipients, paths, commands). */
  control: LabelMask;
  sinks: SinkMask;
  inputs: InputEvidence[];
  detail: Record<string, unknown>;
  provenance: ProvenanceHit[];
  handles: string[];
  contentHash: string | null;
  contentText: string | null;
  /** A kernel precondition that failed: deny before the policy is consulted. */
  refusal: { rule: string; reason: string } | null;
}

/** What the harness, not the request, decides about a syscall. */
export interface SyscallOptions {
  /** The spawned agent that acts; defaults to the root agent. */
  readonly agent?: string;
  /**
   * The caller can put an `ask` to a person itself (an MCP client with elicitation): the
   * ask is recorded as pending rather than turned into a deny.
   */
  readonly canAsk?: boolean;
}

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

const CONTENT_ARGUMENTS = new Set(
  (
    'body content text message msg description summary comment note notes title subject html ' +
    'markdown md caption reply answer prompt query q question data value values'
  ).split(' '),
);
const CONTROL_ARGUMENTS = new Set(
  (
    'url uri urls link href path paths file files filename filepath dir directory folder to cc ' +
    'bcc recipient recipients email emails address addresses phone number account iban command ' +
    'cmd script code exec program args argv host hostname domain server endpoint dest ' +
    'destination target repo repository branch remote channel user username amount currency ' +
    'method webhook chat room conversation thread space group contact contacts member members ' +
    'participant participants attendee attendees invitee invitees payee beneficiary assignee ' +
    'assignees reviewer reviewers owner'
  ).split(' '),
);

/**
 * Whether a tool argument is a control argument (it decides where or what: a URL, a
 * recipient, a path, a command, an amount) rather than content carried along. By its
 * name, and when the name says nothing, by whether its value's text (textOf; null when
 * it cannot be scanned) holds a control-shaped value (a URL, address, path or number).
 */
export function isControlArgument(name: string, text: string | null): boolean {
  if (isControlName(name)) return true;
  const words = nameWords(name);
  if (words.length > 0 && words.every((word) => CONTENT_ARGUMENTS.has(word))) return false;
  if (text === null || extractValues(text).size > 0) return true;
  // An encoded value (a base64 raw mail with its Bcc header) is judged by what it says.
  return decodedForms(text, decodeBudget()).forms.some((form) => extractValues(form).size > 0);
}

/**
 * How an argument's (or member's) name appears in the log: as written when it looks like
 * a name (an identifier without long digit runs or credential material), otherwise by
 * hash. A hijacked agent can put anything in a name; the log keeps no raw content.
 */
function argRef(key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(key) && !/\d{5}/.test(key);
  // A name the redaction would change is hashed instead: two token-shaped names must not
  // log (and hash into a request) as the same "[redacted-secret]".
  return plain && loggable(key, 64) === key ? key : `~${sha256Hex(key).slice(0, 16)}`;
}

/** Where a URL may start: a scheme (lenient forms such as `http:host` included) or `//`. */
const URL_START = /(?:[a-z][a-z0-9+.-]{0,31}:|\/\/)[^\s"'<>`]{1,4096}/gi;
/** URL candidates looked at in one value, at most (beyond: counted as remote, fail closed). */
const MAX_URL_CANDIDATES = 1024;

/**
 * Whether a text names a remote host as a URL, as a WHATWG URL parser (which browsers,
 * Node's fetch and most HTTP clients follow) would read it: any scheme with a host,
 * userinfo, `http:\\host`, tabs or newlines inside; not localhost or a loopback address.
 */
function namesRemoteHost(raw: string): boolean {
  const text = raw.replace(/[\t\n\r]/g, '');
  let seen = 0;
  for (const match of text.matchAll(URL_START)) {
    if (++seen > MAX_URL_CANDIDATES) return true;
    let host: string;
    try {
      const candidate = match[0].startsWith('//') ? `http:${match[0]}` : match[0];
      host = new URL(candidate).hostname.toLowerCase().replace(/^\[|\]$/g, '');
    } catch {
      continue;
    }
    if (host === '' || host === 'localhost' || host === '::1') continue;
    if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) continue;
    return true;
  }
  return false;
}

function isControlName(name: string): boolean {
  return nameWords(name).some((word) => CONTROL_ARGUMENTS.has(word));
}

/** Members of one structured argument that are checked as control values, at most. */
const MAX_NESTED_CONTROL = 256;

/**
 * The members inside a structured argument whose own name says they steer (a Graph-style
 * `message.toRecipients[0].emailAddress.address`, a `personalizations[].to`), with their
 * paths: a recipient is a recipient however deep it sits. Null when there are more than
 * MAX_NESTED_CONTROL (the caller then treats the whole argument as control).
 */
function nestedControlValues(name: string, value: unknown): [string, unknown][] | null {
  const out: [string, unknown][] = [];
  const stack: [string, unknown][] = [[name, value]];
  while (stack.length > 0) {
    const [path, item] = stack.pop() as [string, unknown];
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) stack.push([`${path}[${i}]`, item[i]]);
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, child] of Object.entries(item)) {
        const at = `${path}.${argRef(key)}`;
        if (!isControlName(key)) stack.push([at, child]);
        else if (out.push([at, child]) > MAX_NESTED_CONTROL) return null;
      }
    }
  }
  return out;
}

/**
 * Where the known secret values occur in a text; with `whole`, only where a value stands
 * on its own (no letter or digit right before or after it).
 */
function knownSpans(text: string, known: ReadonlyMap<string, string>, whole = false): Span[] {
  const spans: Span[] = [];
  const alnum = (i: number) => i >= 0 && i < text.length && /[A-Za-z0-9]/.test(text[i] as string);
  for (const value of known.keys()) {
    for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + value.length)) {
      if (whole && (alnum(at - 1) || alnum(at + value.length))) continue;
      spans.push({ start: at, end: at + value.length });
    }
  }
  return spans;
}

/**
 * A copy of a JSON-like value with every string passed through `map`, with the member
 * name it is the value of (shared when unchanged).
 */
export function mapStrings(
  value: unknown,
  map: (text: string, key: string | undefined) => string,
  key?: string,
): unknown {
  if (typeof value === 'string') return map(value, key);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const mapped = mapStrings(item, map);
      if (mapped !== item) changed = true;
      return mapped;
    });
    return changed ? out : value;
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [member, item] of Object.entries(value)) {
      const mapped = mapStrings(item, map, member);
      if (mapped !== item) changed = true;
      // Defined, not assigned: a `__proto__` member stays a member.
      Object.defineProperty(out, member, {
        value: mapped,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return changed ? out : value;
  }
  return value;
}

export function newRunId(now: number = Date.now()): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${sha256Hex(`${now}:${Math.random()}:${process.pid}`).slice(0, 8)}`;
}

function bytesOf(content: string | Uint8Array): Uint8Array {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** All text of a value, or null when it has more parts than the scanners may skip. */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (content instanceof Uint8Array) return Buffer.from(content).toString('utf8');
  const strings = stringsOf(content, MAX_SCANNED_STRINGS);
  return strings === null ? null : strings.join('\n');
}

function hashOf(content: unknown): string {
  if (typeof content === 'string' || content instanceof Uint8Array)
    return sha256Hex(bytesOf(content));
  return sha256Hex(canonicalize(content));
}

/** Strings kept verbatim in the log (targets, intents) lose credential material first. */
function loggable(text: string, limit: number): string {
  const clipped = text.length > limit ? `${text.slice(0, limit)}…` : text;
  return redactSecrets(clipped.toWellFormed());
}

export class Kernel {
  readonly runId: string;
  readonly agentId: string;
  readonly policy: CompiledPolicy;
  readonly signer: Signer;
  readonly #recorder: FlightRecorder;
  readonly #stores: readonly SecretStore[];
  readonly #captured = new CapturedSecretStore();
  /**
   * Captured secrets worth finding again on their own, by value -> target (first capture
   * wins): a captured password that comes back without its `password:` line (echoed,
   * written and read back) is still a secret. Only values that look like secrets (8 or
   * more characters, letters and digits) count, so that `password: string` does not turn
   * every later `string` into a handle. Grown as secrets are captured, up to a bound.
   */
  readonly #echoes = new Map<string, string>();
  readonly #pins: PinStore | undefined;
  readonly #shadow: CompiledPolicy | undefined;
  readonly #approvalSource: ((requestHash: string) => ApprovalAnswer | null) | undefined;
  readonly #trackers = new Map<string, CatalogueTracker | AgentkError>();
  readonly #extraGrants: string[];
  readonly #approver: Approver | undefined;
  readonly #clock: () => number;
  readonly #receiptTtl: number;
  readonly #sessions = new Map<string, Session>();
  readonly #pages = new Map<string, StoredPage>();
  #pageCount = 0;
  readonly #values = new ValueIndex();
  /** Sink classes from each described tool's MCP annotations, by target. */
  readonly #catalog = new Map<string, SinkMask>();
  /** Tools whose current descriptor is poisoned-suspect: no secret is revealed to them. */
  readonly #suspectTools = new Set<string>();
  /** Set when a suspect tool could not be remembered: then no tool gets secrets (fail closed). */
  #suspectOverflow = false;
  readonly #memory = new Map<string, { labels: LabelMask; sha256: string; step: number }>();
  readonly #handles = new Map<string, IssuedHandle>();
  readonly #receipts = new Map<string, IssuedReceipt>();
  readonly #pending = new Map<
    string,
    { kind: SyscallKind; target: string; agent: string; step: number }
  >();
  readonly #approvals = new Map<string, { approver: string; step: number }>();
  #closed = false;

  constructor(options: KernelOptions) {
    this.policy =
      options.policy instanceof CompiledPolicy
        ? options.policy
        : new CompiledPolicy(options.policy);
    this.agentId = options.agentId ?? this.policy.agentId;
    this.signer = options.signer ?? loadSigner();
    this.#clock = options.clock ?? Date.now;
    this.runId = options.runId ?? newRunId(this.#clock());
    this.#stores = options.secretStores ?? [];
    this.#pins = options.pins;
    this.#approvalSource = options.approvalSource;
    this.#shadow =
      options.shadowPolicy === undefined
        ? undefined
        : options.shadowPolicy instanceof CompiledPolicy
          ? options.shadowPolicy
          : new CompiledPolicy(options.shadowPolicy);
    this.#extraGrants = [...(options.grants ?? [])];
    this.#approver = options.approver;
    this.#receiptTtl = options.receiptTtlMs ?? DEFAULT_RECEIPT_TTL_MS;
    const trace = options.trace;
    const sink =
      trace === undefined
        ? new MemorySink()
        : 'sink' in trace
          ? trace.sink
          : new FileSink(trace.path, trace.durability ?? 'flush');
    this.#recorder = new FlightRecorder(sink, this.runId);
    this.#sessions.set(this.agentId, { id: this.agentId, parent: null, context: 0 });
  }

  /** Where the flight log is written, or null for an in-memory log. */
  get tracePath(): string | null {
    return this.#recorder.path;
  }

  /** Events recorded so far (the seal excluded). */
  get eventCount(): number {
    return this.#recorder.count;
  }

  get headHash(): string {
    return this.#recorder.head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The session's context label: the join of every page that entered its context. */
  contextLabels(agent: string = this.agentId): readonly Label[] {
    return labelsOf(this.#sessions.get(agent)?.context ?? 0);
  }

  page(id: string): ContextPage | undefined {
    const page = this.#pages.get(id);
    if (!page) return undefined;
    const { mask: _mask, ...info } = page;
    return info;
  }

  /** Grant a capability pattern from embedding code (e.g. `tool.invoke:fs/*`). */
  grant(capability: string): void {
    if (!/^[^:]+:.+$/.test(capability)) {
      throw new TypeError('capability must look like "<syscall>:<target pattern>"');
    }
    this.#extraGrants.push(capability);
  }

  #granted(capability: string): boolean {
    if (this.policy.grants(capability)) return true;
    return this.#extraGrants.some((pattern) => globMatch(pattern, capability));
  }

  /**
   * Mediate one syscall: derive labels, decide, sign, record. The event is durably
   * appended before this returns; run the effect only if `result.allowed`.
   *
   * The request may come from the agent itself; what it may not choose is said apart:
   * `options.agent` (which spawned agent acts) is the harness's to set, and answers to an
   * `ask` come only through approve(), never as a syscall.
   */
  syscall(
    request: SyscallRequest | Readonly<Record<string, unknown>>,
    options: SyscallOptions = {},
  ): SyscallResult {
    return this.#mediate(request, options.agent ?? this.agentId, false, options.canAsk === true);
  }

  /**
   * Record a person's answer to a pending `ask` (identified by its request hash) as a
   * `human.approve` syscall. An approval allows that exact request once. This is for the
   * harness's approval channel (an approver callback, an MCP elicitation), never for
   * requests the agent composes.
   */
  approve(
    requestHash: string,
    answer: ApprovalAnswer,
    options: SyscallOptions = {},
  ): SyscallResult {
    return this.#mediate(
      {
        kind: 'human.approve',
        target: requestHash,
        approver: answer.approver,
        approved: answer.approved,
        intent: 'a person answered an ask',
        ...(answer.note !== undefined ? { note: answer.note } : {}),
      },
      options.agent ?? this.agentId,
      true,
      false,
    );
  }

  #mediate(
    request: SyscallRequest | Readonly<Record<string, unknown>>,
    agent: string,
    fromApprover: boolean,
    canAsk: boolean,
  ): SyscallResult {
    if (this.#closed) {
      throw new AgentkError('RECORDER_CLOSED', 'the kernel is closed; open a new one');
    }
    const now = this.#clock();
    const ts = new Date(now).toISOString();
    const parsed = parseRequest(request);
    const kindText = parsed.ok ? parsed.request.kind : parsed.kind;
    const session = this.#sessions.get(agent);

    let analysis: Analysis = {
      labels: 0,
      control: 0,
      sinks: 0,
      inputs: [],
      detail: {},
      provenance: [],
      handles: [],
      contentHash: null,
      contentText: null,
      refusal: null,
    };
    if (!parsed.ok) {
      analysis.refusal = {
        rule: 'kernel.invalid-request',
        reason: `invalid request: ${parsed.problem}`,
      };
    } else if (!isSyscallKind(parsed.request.kind)) {
      analysis.refusal = {
        rule: 'kernel.unknown-syscall',
        reason: `unknown syscall ${JSON.stringify(loggable(kindText, 64))}: denied by default`,
      };
    } else if (!session) {
      analysis.refusal = {
        rule: 'kernel.unknown-agent',
        reason: `agent ${JSON.stringify(loggable(agent, 128))} was never spawned in this run`,
      };
    } else if (
      parsed.request.kind === 'human.approve' &&
      parsed.request.approver !== undefined &&
      !fromApprover
    ) {
      analysis.refusal = {
        rule: 'kernel.approval-not-from-approver',
        reason:
          'an answer to an ask comes from the approver (Kernel.approve), never from a syscall the agent can make',
      };
    } else {
      analysis = this.#analyze(parsed.request, session);
    }

    const kind = isSyscallKind(kindText) ? kindText : null;
    const loggedKind = kind ?? loggable(kindText, 64);
    const rawTarget = parsed.ok ? parsed.request.target : parsed.target;
    const target = loggable(rawTarget, 4096);
    const intent = parsed.ok ? loggable(parsed.request.intent ?? '', 512) : '';
    const capability = `${kindText}:${rawTarget}`;
    // What the log keeps: the same capability with credential material redacted.
    const loggedCapability = `${loggedKind}:${target}`;
    const capabilityGranted = kind !== null && this.#granted(capability);
    // Everything that shapes the request, so an approval covers exactly what was asked.
    const requestHash = domainHash(
      REQUEST_DOMAIN,
      canonicalize({
        agent,
        kind: loggedKind,
        target: rawTarget.toWellFormed(),
        intent,
        inputs: analysis.inputs,
        shape: parsed.ok ? requestShape(parsed.request) : {},
      }),
    );

    // Decide.
    let verdict: Verdict;
    let effect: Verdict;
    let shadowDecision: { effect: Verdict; rule: string } | undefined;
    let askPending = false;
    let rule: string;
    let reason: string;
    if (analysis.refusal || kind === null) {
      verdict = 'deny';
      effect = 'deny';
      rule = analysis.refusal?.rule ?? 'kernel.unknown-syscall';
      reason = analysis.refusal?.reason ?? 'unknown syscall';
    } else {
      const input = {
        kind,
        target: rawTarget,
        labels: analysis.labels,
        control: analysis.control,
        sinks: analysis.sinks,
        capability: capabilityGranted,
      };
      const match = this.policy.decide(input);
      if (this.#shadow) {
        const shadow = this.#shadow.decide({
          ...input,
          capability: this.#shadow.grants(capability),
        });
        shadowDecision = { effect: shadow.rule.effect, rule: shadow.rule.id };
      }
      verdict = match.rule.effect;
      effect = match.rule.effect;
      rule = match.rule.id;
      reason = match.rule.reason;
      if (verdict === 'ask') {
        let approval = this.#approvals.get(requestHash);
        // An approval given out of band (`agentk approve <hash>`) for a request asked before.
        if (!approval && this.#pending.has(requestHash) && this.#approvalSource) {
          const answer = this.#approvalSource(requestHash);
          if (answer) {
            this.approve(requestHash, answer, { agent });
            approval = this.#approvals.get(requestHash);
          }
        }
        if (approval) {
          this.#approvals.delete(requestHash);
          verdict = 'allow';
          reason = `${reason} (approved by ${approval.approver} at step ${approval.step})`;
          analysis.detail.approval = { approver: approval.approver, step: approval.step };
        } else {
          askPending = true;
        }
        if (askPending && !this.#approver && !canAsk) {
          verdict = 'deny';
          reason = `${reason} (needs a person's approval and nobody can be asked here: allow it with a policy rule, or approve request ${requestHash} with \`agentk approve ${requestHash}\` and retry)`;
        }
      }
    }

    // A handle goes back only to a sink its scope allows, never to egress, never stale.
    if (verdict === 'allow' && kind !== null && analysis.handles.length > 0) {
      const problem = this.#handleProblem(analysis.handles, kind, rawTarget, analysis.sinks, now);
      if (problem) {
        verdict = 'deny';
        rule = 'kernel.handle-out-of-scope';
        reason = `secret handle cannot be used here: ${problem}`;
      }
    }

    // Evidence.
    const step = this.#recorder.nextStep;
    let receipt: ReceiptRecord | null = null;
    let handle: SecretHandleRecord | null = null;
    let handleStore: SecretStore | null = null;
    let handleExpiry = 0;
    if (verdict === 'allow' && kind !== null && !OBSERVATION_KINDS.has(kind)) {
      receipt = mintReceipt(this.signer, {
        agent_id: agent,
        run_id: this.runId,
        step,
        syscall: kind,
        target,
        previous_hash: this.#recorder.head,
        issued_at: ts,
        expires_at: new Date(now + this.#receiptTtl).toISOString(),
      });
      if (kind === 'secret.open' && parsed.ok && parsed.request.kind === 'secret.open') {
        const store = this.#allStores().find((candidate) => candidate.has(rawTarget));
        if (store) {
          handleStore = store;
          handleExpiry = now + (parsed.request.ttlMs ?? DEFAULT_HANDLE_TTL_MS);
          handle = mintSecretHandle(this.signer, {
            receipt_id: receipt.id,
            target,
            scope: parsed.request.scope ?? ['tool.invoke:*'],
            issued_at: ts,
            expires_at: new Date(handleExpiry).toISOString(),
          });
        }
      }
    }

    const decision: DecisionRecord = {
      verdict,
      effect,
      rule,
      reason,
      missing_capability: kind !== null && !capabilityGranted ? loggedCapability : null,
      receipt,
      secret_handle: handle,
      request_hash: requestHash,
      ...(shadowDecision ? { shadow: shadowDecision } : {}),
    };
    const sessionContext = session?.context ?? 0;
    const syscall: SyscallRecord = {
      kind: loggedKind,
      target,
      intent,
      labels: labelsOf(analysis.labels),
      control_labels: labelsOf(analysis.control),
      inputs: analysis.inputs,
      capability: loggedCapability,
      sinks: sinksOf(analysis.sinks),
      detail: {
        ...analysis.detail,
        context_labels: labelsOf(sessionContext),
        ...(analysis.provenance.length > 0
          ? {
              provenance: analysis.provenance.map((hit) => ({
                arg: hit.arg,
                page: hit.page,
                page_sha256: hit.pageSha256,
                labels: hit.labels,
              })),
            }
          : {}),
      },
    };
    // Durably record before anything takes effect.
    const event = this.#recorder.append({
      type: 'syscall',
      ts,
      run_id: this.runId,
      agent_id: agent,
      syscall,
      decision,
    }) as SyscallEvent;

    // Effects on kernel state, only after the event is on disk.
    let page: ContextPage | null = null;
    let child: string | null = null;
    if (receipt) {
      this.#receipts.set(receipt.id, {
        scope: receipt.scope,
        expiresAt: now + this.#receiptTtl,
        sinks: analysis.sinks,
        handles: analysis.handles.length > 0 ? analysis.handles : NO_HANDLES,
        spent: false,
        revealed: null,
      });
      if (this.#receipts.size > MAX_LIVE_RECEIPTS) this.#pruneReceipts(now);
    }
    if (handle && handleStore) {
      this.#handles.set(handle.id, { record: handle, store: handleStore, expiresAt: handleExpiry });
    }
    if (askPending && kind !== null) {
      // Kept even when turned into a deny for want of an approver: a person can still
      // answer it out of band (a human.approve bound to this request hash), then retry.
      this.#pending.set(requestHash, { kind, target: rawTarget, agent, step });
    }
    if (verdict === 'allow' && parsed.ok && session) {
      const request = parsed.request;
      switch (request.kind) {
        case 'context.read':
        case 'tool.describe':
        case 'resource.describe':
        case 'prompt.describe':
        case 'tool.response':
        case 'resource.response':
        case 'prompt.response':
          page = this.#addPage(session, rawTarget, analysis, step);
          break;
        case 'memory.write':
          this.#memory.set(rawTarget, {
            labels: analysis.labels,
            sha256: analysis.contentHash ?? '',
            step,
          });
          break;
        case 'agent.spawn':
          this.#sessions.set(rawTarget, { id: rawTarget, parent: agent, context: session.context });
          child = rawTarget;
          break;
        case 'human.approve': {
          const pending = this.#pending.get(rawTarget);
          this.#pending.delete(rawTarget);
          if (pending && request.approved === true && request.approver !== undefined) {
            this.#approvals.set(rawTarget, { approver: request.approver, step });
          }
          break;
        }
        default:
          break;
      }
    }

    return {
      step,
      agent,
      kind: loggedKind,
      target,
      verdict,
      allowed: verdict === 'allow',
      rule,
      reason,
      missingCapability: decision.missing_capability,
      labels: syscall.labels,
      controlLabels: syscall.control_labels,
      sinks: sinksOf(analysis.sinks),
      receipt,
      secretHandle: handle,
      requestHash,
      page,
      child,
      provenance: analysis.provenance,
      event,
    };
  }

  /**
   * syscall(), plus the approval round trip: an `ask` goes to the approver, its answer is
   * recorded as a `human.approve` syscall bound to the request hash, and the request is
   * decided again (an approval is valid for that exact request, once).
   */
  async decide(request: SyscallRequest, options: SyscallOptions = {}): Promise<SyscallResult> {
    const first = this.syscall(request, options);
    if (first.verdict !== 'ask' || !this.#approver) return first;
    const answer = await this.#approver({
      requestHash: first.requestHash,
      agent: first.agent,
      kind: first.kind as SyscallKind,
      target: first.target,
      intent: first.event.syscall.intent,
      labels: first.labels,
      rule: first.rule,
      reason: first.reason,
    });
    const approval = this.approve(first.requestHash, answer, options);
    // Refused, or the approval itself was denied: the ask stands, and nothing is allowed.
    if (!approval.allowed || !answer.approved) return first;
    return this.syscall(request, options);
  }

  /**
   * Spend a receipt: true the first time for a live receipt this kernel issued, false
   * after that or once it has expired. Effectors call this right before acting.
   */
  redeem(receiptId: string): boolean {
    const issued = this.#receipts.get(receiptId);
    if (!issued || issued.spent || issued.expiresAt < this.#clock()) return false;
    issued.spent = true;
    return true;
  }

  /**
   * The bytes behind a secret handle, for the allowed syscall that used it: the receipt
   * must be live, its event must have taken the handle as input, its capability must be in
   * the handle's scope, and it must not be an egress sink. Each pair reveals once.
   */
  revealSecret(handleId: string, receiptId: string): Uint8Array {
    const handle = this.#handles.get(handleId);
    const issued = this.#receipts.get(receiptId);
    const now = this.#clock();
    const refuse = (why: string): never => {
      throw new AgentkError('HANDLE_INVALID', `secret handle cannot be redeemed: ${why}`);
    };
    if (!handle) return refuse('unknown handle');
    if (handle.expiresAt < now) return refuse('the handle has expired');
    if (!issued || issued.expiresAt < now) return refuse('unknown or expired receipt');
    if (!issued.handles.includes(handleId))
      return refuse('the receipt’s syscall did not take this handle');
    if (issued.sinks & SINK_EGRESS) return refuse('secrets are never revealed to an egress sink');
    if (issued.revealed?.has(handleId)) return refuse('already revealed for this receipt');
    if (!handle.record.scope.some((pattern) => globMatch(pattern, issued.scope))) {
      return refuse(`${issued.scope} is outside the handle's scope`);
    }
    const bytes = handle.store.read(handle.record.target);
    if (bytes === null) return refuse('the store no longer has this secret');
    issued.revealed ??= new Set();
    issued.revealed.add(handleId);
    return bytes;
  }

  /**
   * Make every event recorded so far durable. With `group` durability, call it before
   * carrying out the effects those events allowed (group commit).
   */
  sync(): void {
    this.#recorder.sync();
  }

  /** Seal the log (signed count and head) and close the kernel. Idempotent. */
  close(): SealEvent | null {
    if (this.#closed) return null;
    this.#closed = true;
    return this.#recorder.seal(this.signer, this.agentId, new Date(this.#clock()).toISOString());
  }

  /** Close the log without a seal: what a crash leaves behind (for tests and fault drills). */
  abandon(): void {
    this.#closed = true;
    this.#recorder.close();
  }

  #tracker(server: string): CatalogueTracker | AgentkError | undefined {
    if (!this.#pins) return undefined;
    let tracker = this.#trackers.get(server);
    if (!tracker) {
      try {
        tracker = new CatalogueTracker(this.#pins, server, new Date(this.#clock()).toISOString());
      } catch (error) {
        tracker =
          error instanceof AgentkError
            ? error
            : new AgentkError('MANIFEST_INVALID', `pins of ${server} are unusable`);
      }
      this.#trackers.set(server, tracker);
    }
    return tracker;
  }

  /**
   * Tell the kernel a server's catalogue listing is complete (the MCP proxy calls this
   * after each tools/list, resources/list or prompts/list): a first-use catalogue becomes
   * the reference for what the server shows later in the run.
   */
  endCatalogueListing(server: string, kind: CatalogueKind): void {
    const tracker = this.#tracker(server);
    if (tracker instanceof CatalogueTracker) tracker.endListing(kind);
  }

  /** Check a descriptor against its server's pins; records the state in the event. */
  #pinCheck(
    kind: SyscallKind,
    target: string,
    descriptor: unknown,
    a: Analysis,
  ): PinState | undefined {
    const slash = target.indexOf('/');
    if (slash <= 0) return undefined;
    const tracker = this.#tracker(target.slice(0, slash));
    if (tracker === undefined) return undefined;
    if (tracker instanceof AgentkError) {
      a.refusal ??= { rule: 'kernel.pins-unusable', reason: tracker.message };
      return undefined;
    }
    const state = tracker.check(
      CATALOGUE_OF[kind] as CatalogueKind,
      target.slice(slash + 1),
      descriptor,
    );
    a.detail.pin = state;
    return state;
  }

  /** Refuse calls to descriptors that changed (or appeared) since the catalogue was pinned. */
  #pinGate(kind: SyscallKind, target: string, a: Analysis): void {
    const slash = target.indexOf('/');
    if (slash <= 0) return;
    const server = target.slice(0, slash);
    const tracker = this.#tracker(server);
    if (tracker === undefined) return;
    if (tracker instanceof AgentkError) {
      a.refusal ??= { rule: 'kernel.pins-unusable', reason: tracker.message };
      return;
    }
    const name = target.slice(slash + 1);
    const state = tracker.suspect(CATALOGUE_OF[kind] as CatalogueKind, name);
    if (state !== undefined) {
      a.detail.pin = state;
      a.refusal ??= {
        rule: 'kernel.descriptor-unapproved',
        reason: `${loggable(name, 128)} is ${state} since ${server}'s catalogue was pinned; review it, then run agentk pins approve --server-id ${server}`,
      };
    }
  }

  #allStores(): readonly SecretStore[] {
    return [...this.#stores, this.#captured];
  }

  #handleProblem(
    handles: readonly string[],
    kind: string,
    target: string,
    sinks: SinkMask,
    now: number,
  ): string | null {
    const capability = `${kind}:${target}`;
    if (this.#suspectOverflow || this.#suspectTools.has(target)) {
      return "the tool's own description looks like a prompt injection; no secret is revealed to it";
    }
    for (const id of handles) {
      const handle = this.#handles.get(id);
      if (!handle) return 'unknown handle';
      if (handle.expiresAt < now) return 'the handle has expired';
      if (sinks & SINK_EGRESS) return 'secrets are never revealed to an egress sink';
      if (!handle.record.scope.some((pattern) => globMatch(pattern, capability))) {
        return `${loggable(capability, 200)} is outside the handle's scope`;
      }
    }
    return null;
  }

  /**
   * Replace credential material in content headed to the model with secret handles: each
   * distinct secret becomes a `secret.open` syscall (so the policy decides, and the log
   * shows it), scoped by default to the server that produced it. Values of configured
   * stores are recognised too. Every secret seen is indexed, raw and encoded, so that an
   * argument echoing it is labelled secret. A secret the policy will not open stays in
   * place, and the content, still secret, is then refused by the response syscall.
   */
  captureSecrets(
    content: unknown,
    source: string,
    options: SyscallOptions = {},
  ): { content: unknown; handles: readonly SecretHandleRecord[] } {
    if (this.#closed)
      throw new AgentkError('RECORDER_CLOSED', 'the kernel is closed; open a new one');
    const known = this.#knownSecretValues();
    // The echoes known when the call began; what it captures joins them when it ends.
    const echoes = this.#echoes;
    const captured: [string, string][] = [];
    const minted = new Map<string, SecretHandleRecord | null>();
    const handles: SecretHandleRecord[] = [];
    const server = source.includes('/') ? source.slice(0, source.indexOf('/')) : source;
    const handleFor = (value: string): SecretHandleRecord | null => {
      let handle = minted.get(value);
      if (handle !== undefined) return handle;
      let target = known.get(value) ?? echoes.get(value);
      if (target === undefined) {
        target = this.#captured.add(source, value);
        captured.push([value, target]);
      }
      const result = this.#mediate(
        {
          kind: 'secret.open',
          target,
          scope: [`tool.invoke:${server}/*`],
          intent: `credential material in content from ${source}`,
        },
        options.agent ?? this.agentId,
        false,
        false,
      );
      handle = result.secretHandle;
      this.#values.addSecret(value, {
        pageId: handle?.id ?? `secret@${result.step}`,
        labels: SECRET | PRIVATE,
      });
      minted.set(value, handle);
      if (handle) handles.push(handle);
      return handle;
    };
    const redact = (text: string): string => {
      const spans = [
        ...findSecrets(text),
        ...knownSpans(text, known),
        ...knownSpans(text, echoes, true),
      ].sort((a, b) => a.start - b.start);
      if (spans.length === 0) return text;
      let out = '';
      let at = 0;
      for (const span of spans) {
        if (span.start < at) continue;
        const handle = handleFor(text.slice(span.start, span.end));
        out += text.slice(at, span.start) + (handle ? handle.id : text.slice(span.start, span.end));
        at = span.end;
      }
      return out + text.slice(at);
    };
    // Text inside a base64 blob is redacted too, and re-encoded.
    const redactMember = (text: string, key: string | undefined): string => {
      const decoded = key === 'blob' ? decodedBlob(text) : null;
      if (decoded === null) return redact(text);
      const redacted = redact(decoded.text);
      return redacted === decoded.text
        ? text
        : Buffer.from(redacted, decoded.encoding).toString('base64');
    };
    const redacted = mapStrings(content, redactMember);
    for (const [value, target] of captured) {
      if (echoes.size >= MAX_KNOWN_ECHOES) break;
      if (value.length >= 8 && /\d/.test(value) && /[A-Za-z]/.test(value) && !echoes.has(value)) {
        echoes.set(value, target);
      }
    }
    return { content: redacted, handles };
  }

  /** Values of configured stores that can list their targets, by value. */
  #knownSecretValues(): Map<string, string> {
    const known = new Map<string, string>();
    for (const store of this.#stores) {
      for (const target of store.targets?.() ?? []) {
        const bytes = store.read(target);
        if (bytes && bytes.length >= 6) known.set(Buffer.from(bytes).toString('utf8'), target);
      }
    }
    return known;
  }

  /**
   * Keep live receipts bounded: drop expired ones, then the oldest, down to the limit. A
   * dropped receipt can no longer be redeemed (fail closed); its record stays in the log.
   */
  #pruneReceipts(now: number): void {
    for (const [id, issued] of this.#receipts) {
      if (issued.expiresAt < now) this.#receipts.delete(id);
    }
    const target = MAX_LIVE_RECEIPTS - MAX_LIVE_RECEIPTS / 8;
    for (const id of this.#receipts.keys()) {
      if (this.#receipts.size <= target) break;
      this.#receipts.delete(id);
    }
  }

  #addPage(session: Session, source: string, analysis: Analysis, step: number): ContextPage {
    const id = `p${++this.#pageCount}`;
    const page: StoredPage = {
      id,
      sha256: analysis.contentHash ?? sha256Hex(''),
      source: loggable(source, 512),
      labels: labelsOf(analysis.labels),
      step,
      agent: session.id,
      mask: analysis.labels,
    };
    this.#pages.set(id, page);
    if (this.#pages.size > MAX_PAGES) {
      // The oldest page's labels live on in the session label and the value index; only
      // its entry (for provenance reports and `{page}` inputs) goes.
      this.#pages.delete(this.#pages.keys().next().value as string);
    }
    session.context = joinMasks(session.context, analysis.labels);
    if (analysis.contentText) this.#values.add(id, analysis.labels, analysis.contentText);
    const { mask: _mask, ...info } = page;
    return info;
  }

  /** Derive labels, sinks and evidence for a well-formed request. */
  #analyze(request: SyscallRequest, session: Session): Analysis {
    const callerLabels = restrictionsOnly(maskOf(request.labels ?? []));
    const a: Analysis = {
      labels: callerLabels,
      control: callerLabels,
      sinks: this.policy.classifySinks(
        request.kind,
        request.target,
        this.#catalog.get(request.target),
      ),
      inputs: [],
      detail: {},
      provenance: [],
      handles: [],
      contentHash: null,
      contentText: null,
      refusal: null,
    };
    /** Labels that reach the whole syscall, control arguments included (conservative). */
    const raise = (mask: LabelMask) => {
      a.labels = joinMasks(a.labels, mask);
      a.control = joinMasks(a.control, mask);
    };
    /** Labels of one argument: control arguments steer; content arguments only carry. */
    const raiseArg = (mask: LabelMask, control: boolean) => {
      a.labels = joinMasks(a.labels, mask);
      if (control) a.control = joinMasks(a.control, mask);
    };
    for (const ref of request.inputs ?? []) this.#resolveInput(ref, a);

    /**
     * Hash, scan and trace one value that flows into this syscall. `evidence: false` for
     * values the event already keeps verbatim (the target).
     */
    const budget = decodeBudget();
    const flow = (name: string, value: unknown, evidence = true, control = true) => {
      const text = textOf(value);
      if (text === null || text.length > MAX_SCANNED_CONTENT) {
        a.refusal = { rule: 'kernel.content-too-large', reason: `${name} exceeds the scan limit` };
        return;
      }
      if (evidence) a.inputs.push({ ref: name, sha256: hashOf(value) });
      raiseArg(this.#values.unindexedLabels, control);
      const pages = new Set<string>();
      // As written, and as decoded: an encoded copy is still a copy. What could not be
      // decoded within the budget counts as private (fail closed).
      const decoded = decodedForms(text, budget);
      if (decoded.exhausted) raiseArg(PRIVATE | UNTRUSTED, control);
      const forms = [text, ...decoded.forms];
      const origins: ValueOrigin[] = [];
      for (const form of forms) {
        if (containsSecret(form)) raise(SECRET | PRIVATE);
        for (const handle of findHandles(form)) this.#resolveInput({ handle }, a);
        origins.push(...this.#values.lookup(form));
      }
      for (const origin of origins) {
        raiseArg(origin.labels, control);
        if (pages.has(origin.pageId)) continue;
        pages.add(origin.pageId);
        if (a.provenance.length < MAX_PROVENANCE_HITS) {
          const page = this.#pages.get(origin.pageId);
          a.provenance.push({
            arg: name,
            page: origin.pageId,
            pageSha256: page?.sha256 ?? '',
            labels: labelsOf(origin.labels),
          });
        }
      }
    };

    /**
     * Content that will enter the model's context: labelled by source and by scans. A
     * descriptor describes a tool; it is not what the tool returns, so the source labels
     * of the tool's output (a mail reader's `private`) do not apply to it.
     */
    const content = (value: unknown, intrinsic: LabelMask, bySource = true) => {
      let mask = intrinsic | (bySource ? this.policy.sourceLabels(request.target) : 0);
      if (value !== undefined) {
        const text = textOf(value);
        if (text === null || text.length > MAX_SCANNED_CONTENT) {
          a.refusal = {
            rule: 'kernel.content-too-large',
            reason: 'content exceeds the scan limit',
          };
          return;
        }
        a.contentHash = hashOf(value);
        a.contentText = text;
        a.inputs.push({ ref: 'content', sha256: a.contentHash });
        if (containsSecret(text)) mask |= SECRET | PRIVATE;
        // A handle stands for a secret: the content is not secret, but it is the user's.
        if (findHandles(text).length > 0) mask |= PRIVATE;
        if (looksInjected(text)) mask |= POISONED | UNTRUSTED;
      }
      // Content from a source no policy pattern vouches for is not trusted.
      if ((mask & (TRUSTED | INTEGRITY_TAINT)) === 0) mask |= UNTRUSTED;
      raise(mask);
    };

    switch (request.kind) {
      case 'context.read': {
        if (request.target.startsWith('memory:')) {
          const memory = this.#memory.get(request.target.slice('memory:'.length));
          if (memory) {
            raise(memory.labels);
            a.inputs.push({ ref: loggable(request.target, 300), sha256: memory.sha256 });
            if (request.content !== undefined && hashOf(request.content) !== memory.sha256) {
              // Changed outside the kernel since it was written: treat as tampered.
              raise(UNTRUSTED | POISONED);
              a.detail.memory_changed = true;
            }
          }
        }
        content(request.content, 0);
        break;
      }
      case 'tool.describe':
      case 'resource.describe':
      case 'prompt.describe': {
        content(request.descriptor, UNTRUSTED, false);
        const pinned = this.#pinCheck(request.kind, request.target, request.descriptor, a);
        // Unapproved descriptors are suspect: their text, and what it names, taints.
        if (pinned && pinned !== 'pinned' && pinned !== 'first-use') raise(POISONED | UNTRUSTED);
        if (request.kind === 'tool.describe') {
          // Only a tool's own descriptor decides whether it is suspect.
          if ((a.labels & POISONED) === 0) this.#suspectTools.delete(request.target);
          else if (this.#suspectTools.size < MAX_CATALOG) this.#suspectTools.add(request.target);
          else this.#suspectOverflow = true;
          const annotations = (request.descriptor as { annotations?: unknown } | null)?.annotations;
          const annotated = annotationSinks(annotations);
          if (this.#catalog.size < MAX_CATALOG) this.#catalog.set(request.target, annotated);
          // Policy-filtered discovery: a tool no state of the policy would let the agent
          // call is not shown to the model at all.
          if (
            this.policy.policy.hideAlwaysDenied &&
            this.policy.alwaysDenies(
              'tool.invoke',
              request.target,
              this.policy.classifySinks('tool.invoke', request.target, annotated),
              this.#granted(`tool.invoke:${request.target}`),
            )
          ) {
            a.refusal ??= {
              rule: 'kernel.hidden-always-denied',
              reason:
                'the policy denies every call to this tool, in every state: hidden from discovery',
            };
          }
        }
        break;
      }
      case 'tool.response':
      case 'resource.response':
      case 'prompt.response':
        // What a tool returns is untrusted; a reader of the user's own data returns private data.
        content(request.content, UNTRUSTED | sourceHeuristics(request.target));
        if (request.isError) a.detail.is_error = true;
        break;
      case 'model.call':
        raise(session.context);
        if (request.prompt !== undefined) flow('prompt', request.prompt, true, false);
        break;
      case 'memory.write':
        // What is written derives from the context (content); the key is the agent's choice.
        raiseArg(session.context, false);
        flow('content', request.content, true, false);
        a.contentHash = hashOf(request.content);
        break;
      case 'tool.invoke':
      case 'resource.read':
      case 'prompt.get': {
        this.#pinGate(request.kind, request.target, a);
        // A resource's URI is a control value: where it points, and what it carries out.
        if (request.kind === 'resource.read') flow('target', request.target, false);
        // Everything an exec sink takes is code; otherwise arguments are told apart by role.
        const exec = (a.sinks & SINK_EXEC) !== 0;
        // Whatever its name says, a call whose control arguments name a remote host reaches
        // the open world: its arguments leave the machine (a read tool fetching
        // ?d=<private> is egress too). The policy's own [sinks] patterns have the last word.
        const byPolicy = this.policy.patternSinks(request.target) !== null;
        const remote = (text: string | null) => {
          if (byPolicy || (a.sinks & SINK_EGRESS) !== 0) return;
          if (text === null || namesRemoteHost(text)) a.sinks |= SINK_EGRESS;
        };
        for (const [key, value] of Object.entries(request.args ?? {})) {
          if (value === undefined) continue; // absent, as in the JSON that is sent
          // The name is the agent's text too: traced like a value, logged only as a name.
          const name = argRef(key);
          flow(`arg-name:${name}`, key, false, false);
          const text = textOf(value);
          const control = exec || isControlArgument(key, text);
          flow(`arg:${name}`, value, true, control);
          if (control) remote(text);
          if (control || typeof value !== 'object' || value === null) continue;
          const nested = nestedControlValues(name, value);
          if (nested === null) {
            flow(`arg:${name}`, value, false, true);
            remote(text);
          } else {
            for (const [path, member] of nested) {
              flow(`arg:${loggable(path, 256)}`, member, false, true);
              remote(textOf(member));
            }
          }
        }
        break;
      }
      case 'network.send':
        flow('target', request.target, false);
        if (request.body !== undefined) flow('body', request.body, true, false);
        if (request.method !== undefined) a.detail.method = request.method.toUpperCase();
        break;
      case 'file.patch': {
        const stats = patchStats(request.diff);
        flow('target', request.target, false);
        flow('diff', request.diff, true, false);
        a.detail.patch = {
          sha256: sha256Hex(request.diff),
          files: stats.files,
          hunks: stats.hunks,
          additions: stats.additions,
          deletions: stats.deletions,
          created: stats.created,
          deleted: stats.deleted,
          paths: stats.paths.slice(0, 64).map((path) => loggable(path, 512)),
        };
        if (stats.deleted > 0) a.sinks |= SINK_DESTRUCTIVE;
        if (stats.tooManyPaths) {
          a.refusal = {
            rule: 'kernel.patch-outside-target',
            reason: 'the diff touches too many paths to check',
          };
        } else if (!patchWithinTarget(stats, request.target)) {
          a.refusal = {
            rule: 'kernel.patch-outside-target',
            reason: 'the diff touches paths outside its target',
          };
        }
        break;
      }
      case 'secret.open':
        raise(SECRET | PRIVATE | this.policy.sourceLabels(request.target));
        a.detail.scope = (request.scope ?? ['tool.invoke:*']).map((entry) => loggable(entry, 512));
        if (!this.#allStores().some((store) => store.has(request.target))) {
          a.refusal = {
            rule: 'kernel.secret-unavailable',
            reason: 'no configured secret store holds this target',
          };
        }
        break;
      case 'human.approve': {
        if (request.approver === undefined) {
          // A question for a person from `target`: untrusted content the policy must clear.
          content(request.question, UNTRUSTED);
          a.detail.question = true;
          break;
        }
        const pending = this.#pending.get(request.target);
        a.detail.approval = {
          request_hash: request.target,
          approved: request.approved,
          approver: loggable(request.approver, 256),
          ...(pending
            ? {
                request: {
                  kind: pending.kind,
                  target: loggable(pending.target, 512),
                  step: pending.step,
                },
              }
            : {}),
          ...(request.note !== undefined ? { note_sha256: sha256Hex(request.note) } : {}),
        };
        if (!pending) {
          a.refusal = {
            rule: 'kernel.no-pending-request',
            reason: 'no pending ask has this request hash',
          };
        }
        break;
      }
      case 'agent.spawn':
        raise(session.context);
        if (this.#sessions.has(request.target)) {
          a.refusal = {
            rule: 'kernel.agent-exists',
            reason: 'an agent with this id already exists',
          };
        }
        a.detail.spawn = {
          child: request.target,
          parent: session.id,
          inherited_labels: labelsOf(session.context),
        };
        if (request.task !== undefined) flow('task', request.task, true, false);
        break;
    }
    return a;
  }

  /** Add an input reference's evidence and labels; unknown references fail closed. */
  #resolveInput(ref: InputRef, a: Analysis): void {
    if ('page' in ref) {
      const page = this.#pages.get(ref.page);
      if (!page) {
        a.refusal ??= {
          rule: 'kernel.unknown-input',
          reason: `no page ${ref.page} in this run`,
        };
        return;
      }
      a.labels = joinMasks(a.labels, page.mask);
      a.control = joinMasks(a.control, page.mask);
      a.inputs.push({ ref: `page:${page.id}`, sha256: page.sha256, labels: page.labels });
    } else if ('handle' in ref) {
      if (a.handles.includes(ref.handle)) return;
      a.labels = joinMasks(a.labels, SECRET | PRIVATE);
      a.control = joinMasks(a.control, SECRET | PRIVATE);
      const handle = this.#handles.get(ref.handle);
      if (!handle) {
        a.refusal ??= { rule: 'kernel.unknown-input', reason: 'unknown secret handle' };
        return;
      }
      a.handles.push(ref.handle);
      a.inputs.push({
        ref: `handle:${ref.handle}`,
        sha256: sha256Hex(ref.handle),
        labels: handle.record.labels,
      });
    } else if ('memory' in ref) {
      const memory = this.#memory.get(ref.memory);
      if (!memory) {
        a.refusal ??= {
          rule: 'kernel.unknown-input',
          reason: `no memory ${JSON.stringify(loggable(ref.memory, 256))}`,
        };
        return;
      }
      a.labels = joinMasks(a.labels, memory.labels);
      a.control = joinMasks(a.control, memory.labels);
      a.inputs.push({
        ref: `memory:${loggable(ref.memory, 256)}`,
        sha256: memory.sha256,
        labels: labelsOf(memory.labels),
      });
    } else {
      const mask = restrictionsOnly(maskOf(ref.labels ?? []));
      a.labels = joinMasks(a.labels, mask);
      a.control = joinMasks(a.control, mask);
      a.inputs.push({
        ref: 'sha256',
        sha256: ref.sha256,
        ...(mask ? { labels: labelsOf(mask) } : {}),
      });
    }
  }
}
