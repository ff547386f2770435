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
import { shownVerdict, type ViewEvent, viewEvent } from './event.js';
import { summarize, type ViewSummary } from './summary.js';
import { type ViewVerification, verifyForView } from './verification.js';

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
