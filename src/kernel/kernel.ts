// The kernel: every action an agent takes is one syscall through Kernel.syscall(). This
// class coordinates; the work is done by stages, in this order (docs/architecture.md):
//   request.ts        parse the untrusted request
//   analysis/         admit it (known kind and agent, answers only from the approver)
//   catalogue/        check a descriptor against its server's pins, or gate a call on them
//   analysis/         derive labels, sinks, provenance and evidence (reads state, writes none)
//   evidence/event.ts name the syscall for the log and hash its exact request
//   decision/         the policy (and shadow policy) decide; asks and approvals; handle scope
//   evidence/event.ts mint receipt and secret handle; append the event to the flight log
//   then, only once the event is on record, each stage takes the syscall's effects
//   (a context page, a memory, a spawned agent, a live receipt or handle, a pending ask).
// If the event cannot be recorded, syscall() throws and nothing is allowed.
// Input distrusted: every request (see parseRequest) and every byte of content.

import type { Signer } from '../crypto/index.js';
import { AgentkError } from '../errors.js';
import { loadSigner } from '../evidence/keys.js';
import { type Label, labelsOf, POISONED, PRIVATE, SECRET } from '../labels/labels.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { globMatch } from '../policy/glob.js';
import type {
  SandboxEvent,
  SandboxRecord,
  SealEvent,
  SecretHandleRecord,
} from '../recorder/event.js';
import type { FlightRecorder } from '../recorder/recorder.js';
import { type SyscallKind, sinksOf } from '../vocabulary.js';
import type { Analysis, AnalysisState } from './analysis/analysis.js';
import { admit, analyze } from './analysis/analyze.js';
import { Catalogue, type CatalogueListings } from './catalogue/catalogue.js';
import { ContentReader } from './content.js';
import { type ContextEffect, ContextStore, NO_EFFECT, type Session } from './context/context.js';
import { Approvals } from './decision/approvals.js';
import { type Decision, type DecisionContext, decide } from './decision/decide.js';
import { ReceiptBook } from './decision/receipts.js';
import { DescribedOnce } from './evidence/described.js';
import {
  DEFAULT_RECEIPT_TTL_MS,
  eventRecords,
  eventTime,
  type Minted,
  mintEvidence,
  type Subject,
  sandboxEntry,
  subjectOf,
  syscallEntry,
} from './evidence/event.js';
import type { Mediation } from './mediation.js';
import { compiled, type KernelOptions, newRunId, recorderOf } from './options.js';
import { harnessRefusal, type ParsedRequest, parseRequest } from './request.js';
import { type OpenSecret, SecretVault } from './secrets/vault.js';
import { analysisState, decisionContext, type StateParts } from './state.js';
import type {
  Answered,
  ApprovalAnswer,
  Approver,
  ContextPage,
  ResponseRequest,
  SyscallOptions,
  SyscallRequest,
  SyscallResult,
} from './types.js';

export class Kernel {
  readonly runId: string;
  readonly agentId: string;
  readonly policy: CompiledPolicy;
  readonly signer: Signer;
  readonly #recorder: FlightRecorder;
  readonly #shadow: CompiledPolicy | undefined;
  readonly #extraGrants: string[];
  readonly #approver: Approver | undefined;
  readonly #clock: () => number;
  readonly #receiptTtl: number;
  // The stages' state.
  readonly #context: ContextStore;
  readonly #catalogue: Catalogue;
  readonly #vault: SecretVault;
  readonly #approvals: Approvals;
  readonly #receipts = new ReceiptBook();
  readonly #described = new DescribedOnce();
  /** What the analysis may read of that state. */
  readonly #state: AnalysisState;
  readonly #decisions: DecisionContext;
  #closed = false;
  #seal: SealEvent | null = null;

  constructor(options: KernelOptions) {
    this.policy = compiled(options.policy);
    this.agentId = options.agentId ?? this.policy.agentId;
    this.signer = options.signer ?? loadSigner();
    this.#clock = options.clock ?? Date.now;
    this.runId = options.runId ?? newRunId(this.#clock());
    this.#shadow = options.shadowPolicy === undefined ? undefined : compiled(options.shadowPolicy);
    this.#extraGrants = [...(options.grants ?? [])];
    this.#approver = options.approver;
    this.#receiptTtl = options.receiptTtlMs ?? DEFAULT_RECEIPT_TTL_MS;
    this.#recorder = recorderOf(options, this.runId, this.signer, this.#clock);
    this.#context = new ContextStore(this.agentId, options.roots);
    this.#catalogue = new Catalogue(options.pins, this.#clock);
    this.#vault = new SecretVault(options.secretStores ?? []);
    this.#approvals = new Approvals(options.approvalSource, options.approveCommand);
    const parts: StateParts = {
      policy: this.policy,
      shadow: this.#shadow,
      context: this.#context,
      vault: this.#vault,
      approvals: this.#approvals,
      catalogue: this.#catalogue,
      granted: (capability) => this.#granted(capability),
      cwd: options.cwd,
      protectedPaths: options.protectedPaths,
    };
    this.#state = analysisState(parts);
    this.#decisions = decisionContext(parts, this.#approver !== undefined, (hash, answer, agent) =>
      this.approve(hash, answer, { agent }),
    );
  }

  /** Where the flight log is written, or null for an in-memory log. */
  get tracePath(): string | null {
    return this.#recorder.path;
  }

  /** Lines recorded so far: the events, and the seal once it is written. */
  get eventCount(): number {
    return this.#recorder.count;
  }

  get headHash(): string {
    return this.#recorder.head;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** Directories the client declared as its roots (roots/list): structure, not content. */
  declareRoots(paths: readonly string[]): void {
    for (const path of paths) this.#context.addRoot(path);
  }

  /** The session's context label: the join of every page that entered its context. */
  contextLabels(agent: string = this.agentId): readonly Label[] {
    return labelsOf(this.#context.session(agent)?.context ?? 0);
  }

  page(id: string): ContextPage | undefined {
    return this.#context.publicPage(id);
  }

  /** Grant a capability pattern from embedding code (e.g. `tool.invoke:fs/*`). */
  grant(capability: string): void {
    const problem = 'capability must look like "<syscall>:<target pattern>"';
    if (!/^[^:]+:.+$/.test(capability)) throw new TypeError(problem);
    this.#extraGrants.push(capability);
  }

  #granted(capability: string): boolean {
    const extra = (pattern: string) => globMatch(pattern, capability);
    return this.policy.grants(capability) || this.#extraGrants.some(extra);
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new AgentkError('RECORDER_CLOSED', 'the kernel is closed; open a new one');
    }
  }

  /**
   * Mediate one syscall: derive labels, decide, sign, record. The event is durably
   * appended before this returns (or, for a describe the same as the last recorded for
   * its target, already was: evidence/described.ts); run the effect only if `result.allowed`.
   *
   * The request may come from the agent itself; what it may not choose is said apart:
   * `options.agent` (which spawned agent acts) is the harness's to set, and answers to an
   * `ask` come only through approve(), never as a syscall.
   */
  syscall(
    request: SyscallRequest | Readonly<Record<string, unknown>>,
    options: SyscallOptions = {},
  ): SyscallResult {
    return this.#mediate(request, {
      agent: options.agent ?? this.agentId,
      canAsk: options.canAsk === true,
      catalogue: options.catalogue,
      refusal: harnessRefusal(options.refusal),
    });
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
        ...(answer.scope === 'session' ? { scope: 'session' } : {}),
        ...(answer.clearCompromised === true ? { clear_compromised: true } : {}),
      },
      { agent: options.agent ?? this.agentId, fromApprover: true },
    );
  }

  /**
   * An answer headed to the model (a tool's result, a resource's contents, a prompt):
   * credential material is replaced by secret handles (each a secret.open syscall), then
   * the answer is its response syscall. The answer is walked once for both.
   */
  answer(request: ResponseRequest, options: SyscallOptions = {}): Answered {
    this.#assertOpen();
    const agent = options.agent ?? this.agentId;
    const captured = this.#capture(request.content, request.target, agent, true);
    const reader = new ContentReader();
    reader.know(captured.content, captured.text);
    // A secret the policy would not open is still in the content: it is secret.
    const labels = captured.unopened ? [...(request.labels ?? []), 'secret' as const] : undefined;
    const result = this.#mediate(
      { ...request, content: captured.content, ...(labels ? { labels } : {}) },
      { agent, reader, refusal: captured.withheld },
    );
    return { content: captured.content, handles: captured.handles, result };
  }

  /**
   * Replace credential material in content headed to the model with secret handles, each
   * a `secret.open` syscall scoped to the server that produced it (SecretVault.capture).
   */
  captureSecrets(
    content: unknown,
    source: string,
    options: SyscallOptions = {},
  ): { content: unknown; handles: readonly SecretHandleRecord[] } {
    this.#assertOpen();
    const captured = this.#capture(content, source, options.agent ?? this.agentId, false);
    return { content: captured.content, handles: captured.handles };
  }

  #capture(content: unknown, source: string, agent: string, collect: boolean) {
    const open: OpenSecret = (request, value, refusal) => {
      const result = this.#mediate(request, { agent, refusal });
      // A withheld secret never reaches the client: nothing to index, nothing kept.
      if (refusal) return null;
      const pageId = result.secretHandle?.id ?? `secret@${result.step}`;
      this.#context.addSecret(value, { pageId, labels: SECRET | PRIVATE });
      return result.secretHandle;
    };
    return this.#vault.capture(content, source, open, collect);
  }

  #mediate(
    request: SyscallRequest | Readonly<Record<string, unknown>>,
    how: Mediation,
  ): SyscallResult {
    this.#assertOpen();
    const now = this.#clock();
    const reader = how.reader ?? new ContentReader();
    const parsed = parseRequest(request, reader);
    const session = this.#context.session(how.agent);
    const analysis = this.#analyze(parsed, session, how, reader);
    const scrub = (text: string) => this.#vault.scrub(text);
    const subject = subjectOf(parsed, how.agent, analysis, (c) => this.#granted(c), {
      canAsk: how.canAsk === true,
      now,
      scrub,
      workspace: this.#state.workspace.cwd ?? undefined,
    });
    const found = decide(subject, analysis, this.#decisions);
    const reason = scrub(found.reason);
    const decision = reason === found.reason ? found : { ...found, reason };
    // Evidence: signed, chained and durably appended before anything takes effect.
    const ts = eventTime(now);
    const place = {
      runId: this.runId,
      step: this.#recorder.nextStep,
      previousHash: this.#recorder.head,
      now,
      ts,
    };
    const minted = mintEvidence(this.signer, subject, parsed, decision, place, {
      receiptTtlMs: this.#receiptTtl,
      storeFor: (target) => this.#vault.storeFor(target),
    });
    const records = eventRecords(subject, analysis, decision, minted, session?.context ?? 0, scrub);
    // A describe the same as the last recorded for its target is not recorded again.
    const event = this.#described.record(how.agent, records, () =>
      this.#recorder.append(syscallEntry(ts, this.runId, how.agent, records)),
    );
    const at = { ...place, step: event.step };
    const effects = this.#takeEffects(parsed, session, subject, analysis, decision, minted, at);
    return {
      step: at.step,
      agent: how.agent,
      kind: subject.loggedKind,
      target: subject.loggedTarget,
      verdict: decision.verdict,
      allowed: decision.verdict === 'allow',
      rule: decision.rule,
      reason: decision.reason,
      missingCapability: records.decision.missing_capability,
      labels: records.syscall.labels,
      controlLabels: records.syscall.control_labels,
      sinks: sinksOf(analysis.sinks),
      receipt: minted.receipt,
      secretHandle: minted.handle,
      requestHash: subject.requestHash,
      page: effects.page,
      child: effects.child,
      provenance: analysis.provenance,
      event,
    };
  }

  /**
   * The analysis of a request: a refusal when a precondition fails (malformed, unknown
   * kind or agent, an answer to an ask not from the approver), else the catalogue's
   * finding and the analysis stage's, and the catalogue learns what a tool described.
   */
  #analyze(
    parsed: ParsedRequest,
    session: Session | undefined,
    how: Mediation,
    reader: ContentReader,
  ): Analysis {
    const refused = admit(parsed, session, how.agent, how.fromApprover === true);
    if (refused !== null) return refused;
    const request = (parsed as { readonly request: SyscallRequest }).request;
    const catalogue = this.#catalogue;
    const verdict = catalogue.verdict(request, how.catalogue);
    const analysis = analyze(request, session as Session, this.#state, reader, verdict);
    if (how.refusal) analysis.refuse(how.refusal.rule, how.refusal.reason);
    if (request.kind === 'tool.describe') {
      catalogue.described(
        request.target,
        (analysis.labels & POISONED) !== 0,
        analysis.annotated ?? 0,
      );
    }
    return analysis;
  }

  /** Effects on kernel state, only after the event is on record. */
  #takeEffects(
    parsed: ParsedRequest,
    session: Session | undefined,
    subject: Subject,
    analysis: Analysis,
    decision: Decision,
    minted: Minted,
    place: { step: number; now: number },
  ): ContextEffect {
    const { receipt, handle, handleStore } = minted;
    if (receipt) {
      this.#receipts.issue(
        receipt.id,
        {
          scope: receipt.scope,
          expiresAt: place.now + this.#receiptTtl,
          sinks: analysis.sinks,
          handles: analysis.handles,
        },
        place.now,
      );
    }
    if (handle && handleStore) {
      this.#vault.issue(handle, handleStore, minted.handleExpiresAt, place.now);
    }
    if (decision.askPending && subject.kind !== null) {
      this.#approvals.asked(subject.requestHash, {
        kind: subject.kind,
        target: subject.target,
        agent: subject.agent,
        step: place.step,
        scope: decision.scope ?? '',
      });
    }
    if (decision.verdict !== 'allow' || !parsed.ok || !session) return NO_EFFECT;
    this.#context.noteClean(analysis.cleanValues, place.step);
    const request = parsed.request;
    if (request.kind === 'human.approve') {
      const asker = this.#approvals.answered(request, place);
      this.#context.clearCompromise(asker, request.approved === true && request.clear_compromised);
      return NO_EFFECT;
    }
    return this.#context.take(request, session, analysis, place.step);
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
    return this.#receipts.redeem(receiptId, this.#clock());
  }

  /**
   * The bytes behind a secret handle, for the allowed syscall that used it: the receipt
   * must be live, its event must have taken the handle as input, its capability must be in
   * the handle's scope, and it must not be an egress sink. Each pair reveals once.
   */
  revealSecret(handleId: string, receiptId: string): Uint8Array {
    return this.#vault.reveal(handleId, this.#receipts.get(receiptId), this.#clock());
  }

  /** Where a proxy tells the catalogue stage where listings and their pages begin and end. */
  get listings(): CatalogueListings {
    return this.#catalogue;
  }

  /** Make every event recorded so far durable (`group` durability: call it before effects). */
  sync(): void {
    this.#recorder.sync();
  }

  /** Run `work` with its events written together when it ends (FlightRecorder.batch). */
  batch(work: () => void): void {
    this.#recorder.batch(work);
  }

  /**
   * Index the text of answers that entered a context, now: otherwise the next syscall does
   * it first. A proxy calls this once it has sent an answer on, so the client need not wait.
   */
  settle(): void {
    this.#context.settle();
  }

  /** Append a sandbox event (docs/flight-log.md): a server's profile, or a limit it hit. */
  recordSandbox(sandbox: SandboxRecord): SandboxEvent {
    this.#assertOpen();
    const entry = sandboxEntry(eventTime(this.#clock()), this.runId, this.agentId, sandbox);
    return this.#recorder.append(entry) as SandboxEvent;
  }

  /** Seal the log (signed count and head) and close the kernel. Idempotent. */
  close(): SealEvent | null {
    if (this.#closed) return null;
    this.#closed = true;
    this.#seal = this.#recorder.seal(this.signer, this.agentId, eventTime(this.#clock()));
    // Pins described outside a listing (library use); the log is sealed whatever happens.
    this.#catalogue.flush();
    return this.#seal;
  }

  /** The seal close() wrote (also when saving the pins then failed), or null. */
  get seal(): SealEvent | null {
    return this.#seal;
  }

  /** Close the log without a seal: what a crash leaves behind (for tests and fault drills). */
  abandon(): void {
    this.#closed = true;
    this.#recorder.close();
  }
}
