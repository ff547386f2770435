// The viewer's data model: everything the page shows, built here in Node from the review
// code (`trace-inspect` describes each event, `why` finds where a refused call's tainted
// arguments came from) and the verification of `verify-signatures`. The page renders this
// and computes nothing that matters.
// Input distrusted: the log. Only events that verify are described; after a failing line,
// nothing is (the banner says where it failed and shows that line as text).

import type { TrustPins } from '../evidence/trust.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { SealEvent, SyscallEvent } from '../recorder/event.js';
import { verifyLogFile } from '../recorder/verify.js';
import { type InspectedEvent, inspectLog } from '../review/inspect.js';
import type { ReviewedLog } from '../review/log.js';
import { explainStep, type Origin, type SessionOrigin } from '../review/why.js';
import { summarize, type ViewSummary } from './summary.js';
import { type ViewVerification, verifyForView } from './verification.js';

/** How an event's decision reads: `approved` is an ask a person allowed. */
export type ShownVerdict = 'allow' | 'deny' | 'ask' | 'approved';

export interface ViewEvent {
  readonly step: number;
  /** 1-based line of the file (checkpoint lines take lines too). */
  readonly line: number;
  readonly ts: string;
  /** Milliseconds since the event before, or null for the first. */
  readonly dt: number | null;
  readonly agent: string;
  readonly syscall: string;
  readonly target: string;
  /** The MCP server the event is about (the target's first segment), or null. */
  readonly server: string | null;
  readonly verdict: ShownVerdict;
  readonly effect: string;
  readonly rule: string;
  readonly reason: string;
  readonly missing_capability: string | null;
  readonly labels: readonly string[];
  readonly evidence: InspectedEvent['evidence'];
  readonly provenance: readonly string[];
  readonly lineage: readonly string[];
  readonly session: string | null;
  readonly shadow: string | null;
  readonly request_hash: string;
  readonly event_hash: string;
}

/** Where a refused or asked call's tainted arguments came from (`agentk why`). */
export interface ViewProvenance {
  readonly step: number;
  readonly origins: readonly Origin[];
  readonly session_origins: readonly SessionOrigin[];
  readonly matched: readonly string[];
  readonly hard: string | null;
  readonly approve: string | null;
}

export interface ViewModel {
  readonly format: 1;
  readonly log: string;
  readonly run_id: string;
  readonly verification: ViewVerification;
  readonly events: readonly ViewEvent[];
  /** The seal's time and signer fingerprint source, when the log is sealed and verifies. */
  readonly sealed_at: string | null;
  readonly provenance: readonly ViewProvenance[];
  /** Refused steps beyond this many are listed without `why`'s provenance. */
  readonly provenance_limit: number;
  readonly summary: ViewSummary;
}

export interface ViewOptions {
  readonly pins?: TrustPins;
  /** The policy `why` reads rule conditions from (the run's, ideally). */
  readonly policy: { readonly path: string; readonly policy: CompiledPolicy };
}

/** Refused steps explained: each explanation reads the log up to its step. */
export const PROVENANCE_LIMIT = 500;

/** Kinds whose target is `server/name` (mcp/mediation). */
const MCP_KIND = /^(tool|resource|prompt)\./;

/** The verified events of the log, each with its line, up to (not including) `before`. */
function verifiedEvents(
  path: string,
  before: number,
): { events: { event: SyscallEvent; line: number }[]; seal: SealEvent | null } {
  const events: { event: SyscallEvent; line: number }[] = [];
  let seal: SealEvent | null = null;
  verifyLogFile(path, (event, line) => {
    if (line >= before) return undefined;
    if (event.type === 'seal') seal = event;
    else events.push({ event, line });
    return undefined;
  });
  return { events, seal };
}

export function shownVerdict(event: SyscallEvent): ShownVerdict {
  const { verdict, effect } = event.decision;
  if (verdict === 'allow' && effect === 'ask') return 'approved';
  return verdict;
}

export function serverOf(event: SyscallEvent): string | null {
  if (!MCP_KIND.test(event.syscall.kind)) return null;
  const slash = event.syscall.target.indexOf('/');
  return slash > 0 ? event.syscall.target.slice(0, slash) : null;
}

function viewEvent(
  event: SyscallEvent,
  line: number,
  inspected: InspectedEvent,
  previous: SyscallEvent | undefined,
): ViewEvent {
  const dt = previous ? Date.parse(event.ts) - Date.parse(previous.ts) : null;
  return {
    step: event.step,
    line,
    ts: event.ts,
    dt: dt !== null && Number.isFinite(dt) ? dt : null,
    agent: event.agent_id,
    syscall: inspected.syscall,
    target: inspected.target,
    server: serverOf(event),
    verdict: shownVerdict(event),
    effect: inspected.effect,
    rule: inspected.rule,
    reason: inspected.reason,
    missing_capability: inspected.missing_capability,
    labels: inspected.labels,
    evidence: inspected.evidence,
    provenance: inspected.provenance,
    lineage: inspected.lineage,
    session: inspected.session ?? null,
    shadow: inspected.shadow ?? null,
    request_hash: event.decision.request_hash,
    event_hash: event.event_hash,
  };
}

/** `why` for the first PROVENANCE_LIMIT refused or asked steps (no suggestion check). */
function provenanceOf(log: ReviewedLog, options: ViewOptions): ViewProvenance[] {
  return log.events
    .filter((event) => shownVerdict(event) !== 'allow' && shownVerdict(event) !== 'approved')
    .slice(0, PROVENANCE_LIMIT)
    .map((event) => {
      const explained = explainStep(log, event, options.policy, false);
      return {
        step: event.step,
        origins: explained.origins,
        session_origins: explained.session_origins,
        matched: explained.matched,
        hard: explained.hard,
        approve: explained.approve,
      };
    });
}

/** Verify the log and describe it for the viewer. Throws AgentkError if it cannot be read. */
export function buildViewModel(path: string, options: ViewOptions): ViewModel {
  const verification = verifyForView(path, options.pins);
  const before = verification.failure?.line ?? Number.POSITIVE_INFINITY;
  const { events: read, seal } = verifiedEvents(path, before);
  const events = read.map((item) => item.event);
  const log: ReviewedLog = {
    path,
    // inspectLog does not read it; the banner's status is the verification's.
    status: verification.status === 'verified' ? 'sealed' : 'unsealed',
    runId: events[0]?.run_id ?? '',
    events,
    seal: verification.status === 'verified' ? seal : null,
  };
  const inspection = inspectLog(log);
  const shown = read.map((item, i) =>
    viewEvent(item.event, item.line, inspection.events[i] as InspectedEvent, events[i - 1]),
  );
  return {
    format: 1,
    log: path,
    run_id: log.runId,
    verification,
    events: shown,
    sealed_at: log.seal?.ts ?? null,
    provenance: provenanceOf(log, options),
    provenance_limit: PROVENANCE_LIMIT,
    summary: summarize(shown, inspection),
  };
}
