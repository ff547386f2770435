// The viewer's data model: everything the page shows, built here in Node from the review
// code (`trace-inspect` describes each event, `why` finds where a refused call's tainted
// arguments came from) and the verification of `verify-signatures`. The page renders this
// and computes nothing that matters.
// Input distrusted: the log. Only events that verify are described; after a failing line,
// nothing is (the banner says where it failed and shows that line as text).

import type { SealEvent } from '../recorder/event.js';
import {
  PROVENANCE_LIMIT,
  ViewBuilder,
  type ViewCheckpoint,
  type ViewOptions,
  type ViewProvenance,
} from './builder.js';
import type { RowsChunk } from './columns.js';
import { type EvidenceRecord, sealRecord } from './records.js';
import type { ViewSummary } from './summary.js';
import { type ViewVerification, verifyForView } from './verification.js';

export { PROVENANCE_LIMIT, type ViewCheckpoint, type ViewOptions, type ViewProvenance };

export interface ViewModel {
  readonly format: 2;
  readonly log: string;
  readonly run_id: string;
  readonly verification: ViewVerification;
  /** Every verified event, in order, as columns (columns.ts). */
  readonly events: RowsChunk;
  /** The seal's time, when the log is sealed and verifies. */
  readonly sealed_at: string | null;
  /** The seal field by field, when the log is sealed and verifies. */
  readonly seal: EvidenceRecord | null;
  readonly provenance: readonly ViewProvenance[];
  /** Refused steps beyond this many are listed without `why`'s provenance. */
  readonly provenance_limit: number;
  /** The signed checkpoints that verified, in order (the first CHECKPOINTS_SHOWN). */
  readonly checkpoints: readonly ViewCheckpoint[];
  /** All of them, listed or not. */
  readonly checkpoints_total: number;
  readonly summary: ViewSummary;
}

/** Verify the log and describe it for the viewer. Throws AgentkError if it cannot be read. */
export function buildViewModel(path: string, options: ViewOptions): ViewModel {
  // One pass: each event is described as the verification passes its line.
  let builder = new ViewBuilder(options.policy);
  let seal: SealEvent | null = null;
  const verification = verifyForView(path, options.pins, {
    event: (event, line) => {
      if (event.type === 'seal') seal = event;
      // The sandbox's own events are not rows of syscalls: the summary counts them.
      else if (event.type !== 'sandbox') builder.add(event, line);
    },
    checkpoint: (line, at) => builder.addCheckpoint(line, at),
    restart: () => {
      builder = new ViewBuilder(options.policy);
      seal = null;
    },
  });
  return modelOf(path, verification, builder, seal);
}

/** The model of what `builder` was given (all of it: not after an earlier take). */
export function modelOf(
  path: string,
  verification: ViewVerification,
  builder: ViewBuilder,
  seal: SealEvent | null,
): ViewModel {
  const { rows, provenance, checkpoints } = builder.take();
  const sealed = verification.status === 'verified' ? seal : null;
  return {
    format: 2,
    log: path,
    run_id: builder.runId,
    verification,
    events: rows,
    sealed_at: sealed?.ts ?? null,
    seal: sealed ? sealRecord(sealed) : null,
    provenance,
    provenance_limit: PROVENANCE_LIMIT,
    checkpoints,
    checkpoints_total: builder.checkpointsTotal,
    summary: builder.summary(),
  };
}
