// The viewer's description of a log, built one verified event at a time: trace-inspect's
// description of each (EventInspector), why's provenance for the first refused ones
// (StepExplainer), the summary's counts, and the rows the page shows (RowEncoder). It
// keeps no event once described, so a long log is read in bounded memory beyond what the
// page itself receives; live mode feeds it the events a running proxy appends.

import type { TrustPins } from '../evidence/trust.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { CheckpointLine, SyscallEvent } from '../recorder/event.js';
import { EventInspector } from '../review/inspect.js';
import { type Origin, type SessionOrigin, StepExplainer } from '../review/why.js';
import { RowEncoder, type RowsChunk } from './columns.js';
import { viewEvent } from './event.js';
import { checkpointRecord, type EvidenceRecord } from './records.js';
import { Summarizer, type ViewSummary } from './summary.js';

export interface ViewOptions {
  readonly pins?: TrustPins;
  /** The policy `why` reads rule conditions from (the run's, ideally). */
  readonly policy: { readonly path: string; readonly policy: CompiledPolicy };
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

/** Refused steps explained with `why`'s provenance (the first this many). */
export const PROVENANCE_LIMIT = 500;

/** A signed checkpoint that verified: its line, the events it covers, and it field by field. */
export interface ViewCheckpoint {
  readonly line: number;
  readonly event_count: number;
  readonly record: EvidenceRecord;
}

/** Checkpoints listed field by field (the first this many; the rest are counted). */
export const CHECKPOINTS_SHOWN = 1000;

export class ViewBuilder {
  readonly #policy: ViewOptions['policy'];
  readonly #inspector = new EventInspector();
  /** Dropped once PROVENANCE_LIMIT steps are explained: nothing later needs it. */
  #explainer: StepExplainer | null = new StepExplainer();
  readonly #encoder = new RowEncoder();
  readonly #summary = new Summarizer();
  #previousTs: string | undefined;
  #explained = 0;
  #provenance: ViewProvenance[] = [];
  #checkpoints: ViewCheckpoint[] = [];
  runId = '';
  count = 0;
  checkpointsTotal = 0;

  constructor(policy: ViewOptions['policy']) {
    this.#policy = policy;
  }

  /** The next verified event of the log, and its line in the file. */
  add(event: SyscallEvent, line: number): void {
    if (this.count === 0) this.runId = event.run_id;
    this.count += 1;
    const shown = viewEvent(event, line, this.#inspector.inspect(event), this.#previousTs);
    this.#previousTs = event.ts;
    this.#encoder.add(shown);
    this.#summary.add(shown);
    const explainer = this.#explainer;
    if (explainer === null) return;
    if (shown.verdict === 'deny' || shown.verdict === 'ask') {
      const explained = explainer.explain(event, this.#policy, false);
      this.#provenance.push({
        step: explained.step,
        origins: explained.origins,
        session_origins: explained.session_origins,
        matched: explained.matched,
        hard: explained.hard,
        approve: explained.approve,
      });
      this.#explained += 1;
      if (this.#explained >= PROVENANCE_LIMIT) this.#explainer = null;
    }
    this.#explainer?.add(event);
  }

  /** A signed checkpoint that verified, at line `at` of the file. */
  addCheckpoint(line: CheckpointLine, at: number): void {
    this.checkpointsTotal += 1;
    if (this.checkpointsTotal > CHECKPOINTS_SHOWN) return;
    const record = checkpointRecord(line, at);
    this.#checkpoints.push({ line: at, event_count: line.checkpoint.event_count, record });
  }

  /** The rows, provenance and checkpoints added since the last call. */
  take(): {
    readonly rows: RowsChunk;
    readonly provenance: readonly ViewProvenance[];
    readonly checkpoints: readonly ViewCheckpoint[];
  } {
    const taken = {
      rows: this.#encoder.take(),
      provenance: this.#provenance,
      checkpoints: this.#checkpoints,
    };
    this.#provenance = [];
    this.#checkpoints = [];
    return taken;
  }

  /** The summary of every event added so far. */
  summary(): ViewSummary {
    return this.#summary.result(this.#inspector.summary());
  }
}
