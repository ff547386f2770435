// The events as the page receives them: columns of numbers instead of an object per event,
// every repeated string (syscall, target, rule, reason, agent, server) held once in a
// string table, and each event's details (evidence, hashes, provenance lines) as a JSON
// text of its own that the page parses only when the event is selected. A 100,000-event
// log then embeds a few megabytes of columns the page reads at once, and details it does
// not read until asked. Encoding continues: live mode sends only the rows and strings
// added since the last message.

import type { ShownVerdict, ViewEvent } from './event.js';
import type { EvidenceRecord } from './records.js';

/** Column `verdict` holds an index into this. */
export const VERDICTS: readonly ShownVerdict[] = ['allow', 'deny', 'ask', 'approved'];

/** One column per field the timeline shows, filters or searches; an entry per event. */
export interface ViewRows {
  readonly step: number[];
  readonly line: number[];
  /** Milliseconds since the event before, or null for the first. */
  readonly dt: (number | null)[];
  /** Index into VERDICTS. */
  readonly verdict: number[];
  /** Indexes into the string table; `server` is -1 for none. */
  readonly syscall: number[];
  readonly target: number[];
  readonly server: number[];
  readonly agent: number[];
  readonly rule: number[];
  readonly reason: number[];
  /** Index into the label sets. */
  readonly labels: number[];
}

/** The rows of a range of events, with the strings and label sets they added. */
export interface RowsChunk {
  /** Index of the first string and label set of this chunk in the whole tables. */
  readonly strings_from: number;
  readonly strings: readonly string[];
  readonly label_sets_from: number;
  readonly label_sets: readonly (readonly string[])[];
  readonly rows: ViewRows;
  /** Each event's details as JSON text (what the detail pane shows beyond the row). */
  readonly details: readonly string[];
}

/** What the detail pane shows beyond the row: parsed by the page when selected. */
export type ViewDetail = Pick<
  ViewEvent,
  | 'ts'
  | 'effect'
  | 'missing_capability'
  | 'evidence'
  | 'provenance'
  | 'lineage'
  | 'session'
  | 'shadow'
  | 'request_hash'
  | 'event_hash'
  | 'receipt'
  | 'records'
>;

/**
 * An event's details as an array (ts, request_hash, event_hash, evidence, effect,
 * missing_capability, provenance, lineage, session, shadow, records, receipt), with what
 * is empty at its end left off; the page's script reads it back as unpackDetail does. A
 * long log's details are mostly hashes, and their field names would take a third of the
 * page.
 * Evidence references go as `[type, ref, sha256]`.
 */
function detailOf(event: ViewEvent): PackedDetail {
  const packed: PackedDetail = [
    event.ts,
    event.request_hash,
    event.event_hash,
    // The receipt's reference is its id, packed with it below (the page puts it back).
    event.evidence
      .filter((item) => !(event.receipt !== null && item.type === 'receipt'))
      .map((item) => [item.type, item.ref, item.sha256]),
    // The rule's own effect, only where it differs from the verdict shown.
    event.effect === event.verdict ? null : event.effect,
    event.missing_capability,
    event.provenance,
    event.lineage,
    event.session,
    event.shadow,
    event.records.map((record) => [record.title, record.fields]),
    event.receipt,
  ];
  while (packed.length > 0) {
    const last = packed[packed.length - 1];
    if (last !== null && !(Array.isArray(last) && last.length === 0)) break;
    packed.pop();
  }
  return packed;
}

type PackedDetail = (string | null | readonly unknown[])[];

/** Details packed by detailOf, read back (as the page's script does). */
export function unpackDetail(text: string, verdict: string): ViewDetail {
  const packed = JSON.parse(text) as unknown[];
  const at = <T>(i: number, empty: T): T => (packed[i] ?? empty) as T;
  const receipt = at<(string | null)[] | null>(11, null);
  const evidence = at<string[][]>(3, []).map(([type, ref, sha256]) => ({
    type: type as string,
    ref: ref as string,
    sha256: sha256 as string,
  }));
  if (receipt !== null) {
    // Back in its place: after the inputs, before a secret handle.
    const handle = evidence.findIndex((item) => item.type === 'secret-handle');
    const entry = { type: 'receipt', ref: receipt[0] as string, sha256: '' };
    evidence.splice(handle === -1 ? evidence.length : handle, 0, entry);
  }
  return {
    ts: at(0, ''),
    request_hash: at(1, ''),
    event_hash: at(2, ''),
    evidence,
    effect: at(4, verdict),
    missing_capability: at(5, null),
    provenance: at(6, []),
    lineage: at(7, []),
    session: at(8, null),
    shadow: at(9, null),
    records: at<[string, EvidenceRecord['fields']][]>(10, []).map(([title, fields]) => ({
      title,
      fields,
    })),
    receipt,
  };
}

const emptyRows = (): ViewRows => ({
  step: [],
  line: [],
  dt: [],
  verdict: [],
  syscall: [],
  target: [],
  server: [],
  agent: [],
  rule: [],
  reason: [],
  labels: [],
});

/** Encodes events in order; `take()` hands over what was added since the last take. */
export class RowEncoder {
  readonly #strings = new Map<string, number>();
  readonly #labelSets = new Map<string, number>();
  #newStrings: string[] = [];
  #newLabelSets: string[][] = [];
  #rows = emptyRows();
  #details: string[] = [];

  #string(value: string): number {
    let index = this.#strings.get(value);
    if (index === undefined) {
      index = this.#strings.size;
      this.#strings.set(value, index);
      this.#newStrings.push(value);
    }
    return index;
  }

  #labelSet(labels: readonly string[]): number {
    const key = JSON.stringify(labels);
    let index = this.#labelSets.get(key);
    if (index === undefined) {
      index = this.#labelSets.size;
      this.#labelSets.set(key, index);
      this.#newLabelSets.push([...labels]);
    }
    return index;
  }

  add(event: ViewEvent): void {
    const rows = this.#rows;
    rows.step.push(event.step);
    rows.line.push(event.line);
    rows.dt.push(event.dt);
    rows.verdict.push(VERDICTS.indexOf(event.verdict));
    rows.syscall.push(this.#string(event.syscall));
    rows.target.push(this.#string(event.target));
    rows.server.push(event.server === null ? -1 : this.#string(event.server));
    rows.agent.push(this.#string(event.agent));
    rows.rule.push(this.#string(event.rule));
    rows.reason.push(this.#string(event.reason));
    rows.labels.push(this.#labelSet(event.labels));
    this.#details.push(JSON.stringify(detailOf(event)));
  }

  /** The rows, strings and label sets added since the last call. */
  take(): RowsChunk {
    const chunk: RowsChunk = {
      strings_from: this.#strings.size - this.#newStrings.length,
      strings: this.#newStrings,
      label_sets_from: this.#labelSets.size - this.#newLabelSets.length,
      label_sets: this.#newLabelSets,
      rows: this.#rows,
      details: this.#details,
    };
    this.#newStrings = [];
    this.#newLabelSets = [];
    this.#rows = emptyRows();
    this.#details = [];
    return chunk;
  }
}

/** The events of a chunk that starts the tables (strings_from 0), as the page reads them. */
export function decodeRows(
  chunk: RowsChunk,
): (Omit<ViewEvent, 'pin'> & { readonly index: number })[] {
  const { rows, strings, label_sets: sets } = chunk;
  return rows.step.map((step, i) => {
    const at = (column: number[]) => strings[column[i] as number] as string;
    const server = rows.server[i] as number;
    return {
      index: i,
      step,
      line: rows.line[i] as number,
      dt: rows.dt[i] ?? null,
      verdict: VERDICTS[rows.verdict[i] as number] as ShownVerdict,
      syscall: at(rows.syscall),
      target: at(rows.target),
      server: server < 0 ? null : (strings[server] as string),
      agent: at(rows.agent),
      rule: at(rows.rule),
      reason: at(rows.reason),
      labels: sets[rows.labels[i] as number] as string[],
      ...unpackDetail(chunk.details[i] as string, VERDICTS[rows.verdict[i] as number] as string),
    };
  });
}
