// The viewer's data model: everything the page shows, built here in Node from the review
// code (`trace-inspect` describes each event, `why` finds where a refused call's tainted
// arguments came from) and the verification of `verify-signatures`. The page renders this
// and computes nothing that matters.
// Input distrusted: the log. Only events that verify are described; after a failing line,
// nothing is (the banner says where it failed and shows that line as text).

import type { TrustPins } from '../evidence/trust.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { SealEvent, SyscallEvent } from '../recorder/event.js';
import { type InspectedEvent, inspectLog } from '../review/inspect.js';
import type { ReviewedLog } from '../review/log.js';
import { explainSteps, type Origin, type SessionOrigin } from '../review/why.js';
import { RowEncoder, type RowsChunk } from './columns.js';
import { shownVerdict, viewEvent } from './event.js';
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
  readonly format: 2;
  readonly log: string;
  readonly run_id: string;
  readonly verification: ViewVerification;
  /** Every verified event, in order, as columns (columns.ts). */
  readonly events: RowsChunk;
  /** The seal's time, when the log is sealed and verifies. */
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

/** Refused steps explained with `why`'s provenance (the first this many). */
export const PROVENANCE_LIMIT = 500;

/** `why` for the first PROVENANCE_LIMIT refused or asked steps (no suggestion check). */
function provenanceOf(log: ReviewedLog, options: ViewOptions): ViewProvenance[] {
  const refused = log.events
    .filter((event) => shownVerdict(event) !== 'allow' && shownVerdict(event) !== 'approved')
    .slice(0, PROVENANCE_LIMIT);
  return explainSteps(log, refused, options.policy, false).map((explained) => ({
    step: explained.step,
    origins: explained.origins,
    session_origins: explained.session_origins,
    matched: explained.matched,
    hard: explained.hard,
    approve: explained.approve,
  }));
}

/** Verify the log and describe it for the viewer. Throws AgentkError if it cannot be read. */
export function buildViewModel(path: string, options: ViewOptions): ViewModel {
  // One pass: the events come from the verification itself, each once its line passed.
  let read: { event: SyscallEvent; line: number }[] = [];
  let seal: SealEvent | null = null;
  const verification = verifyForView(path, options.pins, {
    event: (event, line) => {
      if (event.type === 'seal') seal = event;
      else read.push({ event, line });
    },
    restart: () => {
      read = [];
      seal = null;
    },
  });
  const events = read.map((item) => item.event);
  const sealed = verification.status === 'verified' ? (seal as SealEvent | null) : null;
  const log: ReviewedLog = {
    path,
    // inspectLog does not read it; the banner's status is the verification's.
    status: sealed ? 'sealed' : 'unsealed',
    runId: events[0]?.run_id ?? '',
    events,
    seal: sealed,
  };
  const inspection = inspectLog(log);
  const encoder = new RowEncoder();
  const shown = read.map((item, i) => {
    const inspected = inspection.events[i] as InspectedEvent;
    const event = viewEvent(item.event, item.line, inspected, events[i - 1]);
    encoder.add(event);
    return event;
  });
  return {
    format: 2,
    log: path,
    run_id: log.runId,
    verification,
    events: encoder.take(),
    sealed_at: sealed?.ts ?? null,
    provenance: provenanceOf(log, options),
    provenance_limit: PROVENANCE_LIMIT,
    summary: summarize(shown, inspection),
  };
}
