// Live mode's model of a log a proxy is still writing: verified and described once, then
// only what was appended, continuing the hash chain from the last line checked
// (SignatureStream, the checks of verify-signatures fed line by line). A page is sent the
// rows added since it last heard; the whole model again only when the file was rewritten
// or cut (another file in its place, changed without growing, or its last read line
// changed), or when a cut last line stayed cut (a full build then shows it failing,
// `torn-tail`).
// Input distrusted: every byte of the log.

import { randomInt } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { SignatureStream } from '../evidence/verify-signatures.js';
import type { SealEvent } from '../recorder/event.js';
import { MAX_EVENT_LINE_BYTES } from '../recorder/verify.js';
import {
  type ViewBuilder as Builder,
  ViewBuilder,
  type ViewCheckpoint,
  type ViewOptions,
  type ViewProvenance,
} from './builder.js';
import type { RowsChunk, ViewRows } from './columns.js';
import { buildViewModel, modelOf, type ViewModel } from './model.js';
import { PREFIX_BUDGET, PrefixDigests } from './prefix.js';
import { type ViewVerification, verificationOf } from './verification.js';

/** A message for the page: `rows` to append after `from`, or the whole `model` again. */
export interface LiveMessage {
  readonly event: 'rows' | 'model';
  readonly json: string;
}

/** A cut last line is shown (as failing) only after it stayed cut this many looks. */
const TORN_LOOKS = 4;
const CHUNK = 1 << 20;

/** The state of one reading of the log, from its first byte. */
class Reading {
  readonly builder: ViewBuilder;
  readonly stream: SignatureStream;
  seal: SealEvent | null = null;
  /** Bytes read up to the end of the last whole line, and that line (to see rewrites). */
  offset = 0;
  lastLine: { readonly at: number; readonly bytes: Buffer } | null = null;
  /** Bytes after the last newline (a line being written), and looks it stayed so. */
  tail = 0;
  tornLooks = 0;
  /** Everything sent so far, for pages that open later. */
  readonly all: {
    -readonly [K in keyof RowsChunk]: RowsChunk[K] extends readonly (infer T)[]
      ? T[]
      : RowsChunk[K];
  };
  readonly provenance: ViewProvenance[] = [];
  readonly checkpoints: ViewCheckpoint[] = [];
  /** Digests of the bytes verified, to see them change later. */
  readonly prefix = new PrefixDigests();

  constructor(options: ViewOptions) {
    this.builder = new ViewBuilder(options.policy);
    this.stream = new SignatureStream(options.pins, {
      event: (event, line) => {
        if (event.type === 'seal') this.seal = event;
        else if (event.type !== 'sandbox') this.builder.add(event, line);
      },
      checkpoint: (line, at) => this.builder.addCheckpoint(line, at),
      // A stream is one exact pass: it never starts over.
      restart: () => {},
    });
    this.all = emptyChunk();
  }
}

function emptyChunk(): Reading['all'] {
  const rows = {} as Record<keyof ViewRows, unknown[]>;
  for (const key of COLUMNS) rows[key] = [];
  return {
    strings_from: 0,
    strings: [],
    label_sets_from: 0,
    label_sets: [],
    rows: rows as unknown as ViewRows,
    details: [],
  };
}

const COLUMNS: readonly (keyof ViewRows)[] = [
  'step',
  'line',
  'dt',
  'verdict',
  'syscall',
  'target',
  'server',
  'agent',
  'rule',
  'reason',
  'labels',
];

export class LiveModel {
  readonly #path: string;
  readonly #options: ViewOptions;
  #reading: Reading;
  /**
   * Counts full builds: a page names the one it has, to be sent rows after it. It starts
   * anywhere, so that a page of an earlier viewer process is not taken for this one's.
   */
  #generation = randomInt(1e9);
  #key = '';
  /** A full build showed a cut tail: the next change starts a new reading. */
  #stale = false;
  /** What the banner said last (a change of it alone is worth sending). */
  #shown = '';
  /** A line already verified changed while the viewer watched: said for good. */
  #tampered: number | null = null;

  constructor(path: string, options: ViewOptions) {
    this.#path = path;
    this.#options = options;
    this.#reading = new Reading(options);
    this.#key = this.#stat()?.key ?? '';
    this.#read();
    this.model();
  }

  #stat(): { key: string; file: string; size: number } | null {
    try {
      const stats = statSync(this.#path);
      const file = `${stats.dev}:${stats.ino}`;
      return { key: `${file}:${stats.size}:${stats.mtimeMs}`, file, size: stats.size };
    } catch {
      return null;
    }
  }

  get generation(): number {
    return this.#generation;
  }

  /** The whole model as it stands. */
  model(): ViewModel {
    const reading = this.#reading;
    const verified = verificationOf(this.#path, reading.stream.result(), this.#options.pins);
    const verification = this.#tampered === null ? verified : tampered(verified, this.#tampered);
    this.#shown = `${verification.status}:${verification.headline}`;
    const model = modelOf(this.#path, verification, reading.builder, reading.seal);
    // modelOf took the builder's latest rows: keep them with the rest.
    this.#keep(model.events, model.provenance, model.checkpoints);
    return {
      ...model,
      events: reading.all,
      provenance: [...reading.provenance],
      checkpoints: [...reading.checkpoints],
    };
  }

  /** What a page that has `count` rows of build `generation` needs to be up to date. */
  resume(generation: number, count: number): LiveMessage {
    const model = this.model();
    if (generation !== this.#generation || count > model.events.rows.step.length) {
      return this.#whole(model);
    }
    const rows = sliceChunk(this.#reading.all, count);
    return this.#rows(
      model,
      { rows, provenance: model.provenance, checkpoints: model.checkpoints },
      count,
    );
  }

  /** Read what changed since the last look: rows to send, the whole model, or nothing. */
  changes(): LiveMessage | null {
    const stat = this.#stat();
    if (stat === null) return null;
    const { key, file, size } = stat;
    const reading = this.#reading;
    // The same file, not cut (another file or a cut is read again below, as before): compare
    // what was verified with what is there now; a log that grew a bounded part a look, one
    // written in place all at once (it is read again whole anyway).
    const sameFile = this.#key.startsWith(`${file}:`);
    const grown = size > reading.offset + reading.tail;
    const kept = sameFile && size >= reading.prefix.fed;
    if (key !== this.#key && kept) reading.prefix.changed();
    const budget = grown || key === this.#key ? PREFIX_BUDGET : Number.POSITIVE_INFINITY;
    const changed = kept ? reading.prefix.check(this.#path, budget) : null;
    if (changed !== null) {
      // Bytes verified before are not the same now: said for good, the log read again.
      this.#tampered ??= changed;
      this.#key = key;
      this.#generation += 1;
      this.#reading = new Reading(this.#options);
      this.#read();
      return this.#whole(this.model());
    }
    if (key === this.#key) {
      if (reading.tail === 0 || reading.tornLooks >= TORN_LOOKS) return null;
      reading.tornLooks += 1;
      if (reading.tornLooks < TORN_LOOKS) return null;
      // Cut for a while now: a full build shows it (as verify would), and the next change
      // starts again from the first line.
      this.#stale = true;
      this.#generation += 1;
      return this.#whole(buildViewModel(this.#path, this.#options));
    }
    this.#key = key;
    // Written but not longer: written in place, not appended to.
    const rewritten = !sameFile || !grown;
    if (this.#stale || rewritten || !this.#headIntact()) {
      this.#stale = false;
      this.#generation += 1;
      this.#reading = new Reading(this.#options);
      this.#read();
      return this.#whole(this.model());
    }
    const before = reading.all.rows.step.length;
    const was = this.#shown;
    this.#read();
    const taken = reading.builder.take();
    this.#keep(taken.rows, taken.provenance, taken.checkpoints);
    const model = this.model();
    // Only a line being written: nothing to send yet.
    if (taken.rows.rows.step.length === 0 && this.#shown === was) return null;
    return this.#rows(model, taken, before);
  }

  #whole(model: ViewModel): LiveMessage {
    const { details, ...rows } = model.events;
    const json = JSON.stringify({
      generation: this.#generation,
      model: { ...model, events: rows },
      details,
    });
    return { event: 'model', json };
  }

  /** New rows, with the provenance and checkpoints that came with them (all of them on resume). */
  #rows(model: ViewModel, added: ReturnType<Builder['take']>, from: number): LiveMessage {
    const { verification, sealed_at, seal, summary, run_id, checkpoints_total } = model;
    const json = JSON.stringify({
      generation: this.#generation,
      from,
      events: added.rows,
      provenance: added.provenance,
      checkpoints: added.checkpoints,
      checkpoints_total,
      verification,
      sealed_at,
      seal,
      summary,
      run_id,
    });
    return { event: 'rows', json };
  }

  /** Keep rows taken from the builder with those taken before. */
  #keep(
    rows: RowsChunk,
    provenance: readonly ViewProvenance[],
    checkpoints: readonly ViewCheckpoint[],
  ): void {
    const all = this.#reading.all;
    rows.strings.forEach((text, i) => {
      all.strings[rows.strings_from + i] = text;
    });
    rows.label_sets.forEach((set, i) => {
      all.label_sets[rows.label_sets_from + i] = set;
    });
    for (const key of COLUMNS) (all.rows[key] as unknown[]).push(...rows.rows[key]);
    all.details.push(...rows.details);
    this.#reading.provenance.push(...provenance);
    this.#reading.checkpoints.push(...checkpoints);
  }

  /** Whether the last whole line read is still there, byte for byte. */
  #headIntact(): boolean {
    const last = this.#reading.lastLine;
    if (last === null) return true;
    const now = Buffer.alloc(last.bytes.length);
    const fd = openSync(this.#path, 'r');
    try {
      readSync(fd, now, 0, now.length, last.at);
    } finally {
      closeSync(fd);
    }
    return now.equals(last.bytes);
  }

  /** Feed the whole lines after the offset to the stream; note the tail after them. */
  #read(): void {
    const reading = this.#reading;
    let fd: number;
    try {
      fd = openSync(this.#path, 'r');
    } catch {
      return;
    }
    try {
      readLinesFrom(fd, reading);
    } finally {
      closeSync(fd);
    }
  }
}

/** Read from `reading.offset` to the end, pushing each whole line (oversized: its prefix). */
function readLinesFrom(fd: number, reading: Reading): void {
  const chunk = Buffer.allocUnsafe(CHUNK);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let position = reading.offset;
  let tail = 0;
  for (;;) {
    const read = readSync(fd, chunk, 0, CHUNK, position);
    if (read === 0) break;
    let start = 0;
    let last: { at: number; bytes: Buffer } | null = null;
    for (let nl = chunk.indexOf(10, start); nl !== -1 && nl < read; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const bytes = pendingBytes === 0 ? piece : Buffer.concat([...pending, piece]);
      last = { at: position + start - pendingBytes, bytes };
      const oversized = pendingBytes + piece.length > MAX_EVENT_LINE_BYTES;
      reading.stream.push(bytes, true, oversized);
      if (oversized) reading.prefix.stop();
      else reading.prefix.line(bytes);
      reading.offset = position + nl + 1;
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
    }
    // A copy: the chunk is read into again.
    if (last !== null) reading.lastLine = { at: last.at, bytes: Buffer.from(last.bytes) };
    if (start < read && pendingBytes <= MAX_EVENT_LINE_BYTES) {
      pending.push(Buffer.from(chunk.subarray(start, read)));
    }
    pendingBytes += read - start;
    position += read;
    tail = pendingBytes;
  }
  if (tail !== reading.tail) reading.tornLooks = 0;
  reading.tail = tail;
}

/** The rows of `all` from `from` on, with the whole string tables (a page may lack some). */
function sliceChunk(all: Reading['all'], from: number): RowsChunk {
  const rows = {} as Record<keyof ViewRows, unknown[]>;
  for (const key of COLUMNS) rows[key] = (all.rows[key] as unknown[]).slice(from);
  return {
    strings_from: 0,
    strings: all.strings,
    label_sets_from: 0,
    label_sets: all.label_sets,
    rows: rows as unknown as ViewRows,
    details: all.details.slice(from),
  };
}

/** The banner once a line already verified changed under the viewer: failed, whatever now. */
function tampered(verification: ViewVerification, block: number): ViewVerification {
  // Read again, the log fails at the changed line itself when it is in that block or after.
  const failing = verification.failure?.line;
  const line = failing !== undefined && failing >= block ? failing : block;
  const where = line === block && failing !== block ? ' (or one after it in the same block)' : '';
  return {
    ...verification,
    status: 'failed',
    headline: `the log changed under the viewer: line ${line}${where}, verified before, is not the same bytes now`,
    details: [
      'A flight log only grows: a line verified earlier changed while the viewer watched. What is shown below is the log as it reads now, verified again.',
      `Read again, it says: ${verification.headline}`,
      ...verification.details,
    ],
    tampered: { line },
  };
}
