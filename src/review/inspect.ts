// trace-inspect: a redacted, human view of a flight log. Inputs appear only as their
// reference type and a short hash; secret-handle ids are not shown; summaries group
// blocked events by rule, events by syscall, and evidence by reference type.

import type { SandboxEvent, SyscallEvent } from '../recorder/event.js';
import { increment, type ReviewedLog, sortedCounts } from './log.js';

export interface EvidenceRef {
  readonly type: string;
  readonly ref: string;
  readonly sha256: string;
}

export interface InspectedEvent {
  readonly step: number;
  readonly agent: string;
  readonly syscall: string;
  readonly target: string;
  readonly verdict: string;
  readonly effect: string;
  readonly rule: string;
  readonly reason: string;
  readonly missing_capability: string | null;
  readonly labels: readonly string[];
  readonly evidence: readonly EvidenceRef[];
  readonly provenance: readonly string[];
  /** Values whose untrusted echo did not steer, and where each was first seen. */
  readonly lineage: readonly string[];
  /** Shadow mode: the shadow policy's decision, `effect:rule`. */
  readonly shadow?: string;
  /** Where the agent's session became compromised, or a person cleared it. */
  readonly session?: string;
}

export interface InspectedSandbox {
  readonly step: number;
  readonly server_id: string;
  readonly event: 'start' | 'limit';
  /** One line: what the server ran under, or the limit it hit. */
  readonly text: string;
}

/** A sandbox event in one line. */
export function sandboxLine(event: SandboxEvent): InspectedSandbox {
  const record = event.sandbox;
  const list = (value: unknown) => (Array.isArray(value) ? value.join('; ') : '');
  const text =
    record.event === 'limit'
      ? String(record.message)
      : record.state === 'unsandboxed'
        ? `NOT sandboxed (best-effort): ${String(record.reason)}`
        : `sandboxed; enforced: ${list(record.enforced)}; not enforced: ${list(record.not_enforced) || 'nothing'}`;
  return { step: event.step, server_id: record.server_id, event: record.event, text };
}

export interface Inspection {
  readonly log: string;
  readonly status: string;
  readonly run_id: string;
  readonly events: readonly InspectedEvent[];
  /** The sandbox's own events (docs/sandbox.md): the server's profile, a limit it hit. */
  readonly sandbox?: readonly InspectedSandbox[];
  readonly summary: {
    readonly blocked_by_rule: Record<string, number>;
    readonly events_by_syscall: Record<string, number>;
    readonly evidence_by_type: Record<string, number>;
    /** Shadow mode: `effect:rule->effect:rule` -> count, where the two policies' effects differ. */
    readonly shadow_disagreements?: Record<string, number>;
    /** Each time a session became compromised: the agent, the step, what entered. */
    readonly compromised: readonly { agent: string; step: number; by: string }[];
  };
}

/** Syscalls whose allowed content enters the agent's context. */
const ENTERS_CONTEXT = new Set([
  'context.read',
  'tool.describe',
  'resource.describe',
  'prompt.describe',
  'tool.response',
  'resource.response',
  'prompt.response',
]);

/**
 * The session's state change an event makes, if any: content that reads as an injection
 * entering a session that was not compromised, or a person clearing it.
 */
function sessionChange(event: SyscallEvent, compromised: Set<string>): string | undefined {
  const agent = event.agent_id;
  const approval = (
    event.syscall.detail as
      | { approval?: { clear_compromised?: boolean; approved?: boolean; approver?: string } }
      | undefined
  )?.approval;
  if (
    event.syscall.kind === 'human.approve' &&
    approval?.clear_compromised === true &&
    approval.approved === true &&
    event.decision.verdict === 'allow'
  ) {
    if (!compromised.delete(agent)) return undefined;
    return `no longer compromised: ${approval.approver ?? 'a person'} checked the content`;
  }
  if (
    event.decision.verdict !== 'allow' ||
    !ENTERS_CONTEXT.has(event.syscall.kind) ||
    !event.syscall.labels.includes('poisoned-suspect') ||
    compromised.has(agent)
  ) {
    return undefined;
  }
  compromised.add(agent);
  return `compromised here: content from ${event.syscall.target} reads as an injection; writes, sends and destructive actions ask from now on`;
}

/** `arg:command` -> `arg`, `page:p2` -> `page`, `handle:secret_fd_…` -> `handle`. */
function refType(ref: string): string {
  const colon = ref.indexOf(':');
  return colon === -1 ? ref : ref.slice(0, colon);
}

/** The reference as shown: the handle id is a bearer name inside the kernel, so it is hidden. */
function shownRef(ref: string): string {
  return refType(ref) === 'handle' ? 'handle' : ref;
}

function evidenceOf(event: SyscallEvent): EvidenceRef[] {
  const evidence: EvidenceRef[] = event.syscall.inputs.map((input) => ({
    type: refType(input.ref),
    ref: shownRef(input.ref),
    sha256: input.sha256,
  }));
  if (event.decision.receipt) {
    evidence.push({ type: 'receipt', ref: event.decision.receipt.id, sha256: '' });
  }
  if (event.decision.secret_handle) {
    evidence.push({
      type: 'secret-handle',
      ref: `bound to ${event.decision.secret_handle.receipt_id}`,
      sha256: '',
    });
  }
  return evidence;
}

function provenanceOf(event: SyscallEvent): string[] {
  const hits = event.syscall.detail?.provenance;
  if (!Array.isArray(hits)) return [];
  return hits.map((hit: { arg?: string; page?: string; page_sha256?: string }) => {
    return `${hit.arg} <- ${hit.page} (sha256:${String(hit.page_sha256).slice(0, 12)})`;
  });
}

function lineageOf(event: SyscallEvent): string[] {
  const hits = event.syscall.detail?.lineage;
  if (!Array.isArray(hits)) return [];
  return hits.map(
    (hit: { arg?: string; kind?: string; first_seen?: string; first_seen_step?: number }) => {
      const where =
        hit.first_seen === 'argument'
          ? `a clean argument at step ${hit.first_seen_step}`
          : hit.first_seen === 'root'
            ? 'a path below a configured root'
            : `trusted page ${hit.first_seen} at step ${hit.first_seen_step}`;
      return `${hit.arg} (${hit.kind}) first seen in ${where}; a later untrusted echo did not steer`;
    },
  );
}

/**
 * trace-inspect's description of each event, given in order, and the counts over them:
 * inspectLog for a whole log, or one event at a time (the viewer's live mode).
 */
export class EventInspector {
  readonly #blocked = new Map<string, number>();
  readonly #bySyscall = new Map<string, number>();
  readonly #byType = new Map<string, number>();
  readonly #disagreements = new Map<string, number>();
  #shadowed = false;
  readonly #compromisedNow = new Set<string>();
  readonly #compromised: { agent: string; step: number; by: string }[] = [];

  /** The next event of the log, described. */
  inspect(event: SyscallEvent): InspectedEvent {
    const session = sessionChange(event, this.#compromisedNow);
    if (session?.startsWith('compromised')) {
      this.#compromised.push({ agent: event.agent_id, step: event.step, by: event.syscall.target });
    }
    const evidence = evidenceOf(event);
    increment(this.#bySyscall, event.syscall.kind);
    if (event.decision.verdict !== 'allow') increment(this.#blocked, event.decision.rule);
    for (const item of evidence) increment(this.#byType, item.type);
    const shadow = event.decision.shadow;
    if (shadow) {
      this.#shadowed = true;
      if (shadow.effect !== event.decision.effect) {
        increment(
          this.#disagreements,
          `${event.decision.effect}:${event.decision.rule}->${shadow.effect}:${shadow.rule}`,
        );
      }
    }
    return {
      step: event.step,
      agent: event.agent_id,
      syscall: event.syscall.kind,
      target: event.syscall.target,
      verdict: event.decision.verdict,
      effect: event.decision.effect,
      rule: event.decision.rule,
      reason: event.decision.reason,
      missing_capability: event.decision.missing_capability,
      labels: event.syscall.labels,
      evidence,
      provenance: provenanceOf(event),
      lineage: lineageOf(event),
      ...(shadow ? { shadow: `${shadow.effect}:${shadow.rule}` } : {}),
      ...(session ? { session } : {}),
    };
  }

  /** The counts over the events inspected so far. */
  summary(): Inspection['summary'] {
    return {
      blocked_by_rule: Object.fromEntries(sortedCounts(this.#blocked)),
      events_by_syscall: Object.fromEntries(sortedCounts(this.#bySyscall)),
      evidence_by_type: Object.fromEntries(sortedCounts(this.#byType)),
      ...(this.#shadowed
        ? { shadow_disagreements: Object.fromEntries(sortedCounts(this.#disagreements)) }
        : {}),
      compromised: [...this.#compromised],
    };
  }
}

export function inspectLog(log: ReviewedLog): Inspection {
  const inspector = new EventInspector();
  const events = log.events.map((event) => inspector.inspect(event));
  return {
    log: log.path,
    status: log.status,
    run_id: log.runId,
    events,
    // Only for a log that has them: the output of other logs is as it was.
    ...(log.sandbox.length > 0 ? { sandbox: log.sandbox.map(sandboxLine) } : {}),
    summary: inspector.summary(),
  };
}
