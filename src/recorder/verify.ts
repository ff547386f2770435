// Chain verification of a flight log (docs/flight-log.md). Streams the file line by line:
// every line must be exactly the canonical encoding of its event, carry the next step,
// chain to the previous event's hash, and hash to its own event_hash. A clean end needs a
// seal whose signature, count and head match; a log without one is "unsealed", which is
// reported apart from tampering.
// Input distrusted: every byte of the log.

import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { SEAL_DOMAIN, verifyRecordSignature } from '../crypto/signing.js';
import { AgentkError } from '../errors.js';
import { CheckedLines } from './checked-lines.js';
import { CheckpointBook } from './checkpoints.js';
import { type CheckpointLine, type FlightEvent, GENESIS_HASH, type SealEvent } from './event.js';
import { integrityProblem } from './line-integrity.js';
import { readLines } from './lines.js';
import { eventShapeProblem } from './shape.js';

export const MAX_EVENT_LINE_BYTES = 16 * 1024 * 1024;

export type ChainFailureCode =
  | 'empty'
  | 'unsealed'
  | 'torn-tail'
  | 'line-too-long'
  | 'not-utf8'
  | 'not-json'
  | 'bad-shape'
  | 'not-canonical'
  | 'hash-mismatch'
  | 'step-mismatch'
  | 'chain-broken'
  | 'run-mismatch'
  | 'seal-mismatch'
  | 'seal-signature'
  | 'checkpoint-mismatch'
  | 'checkpoint-signature'
  | 'after-seal';

export interface ChainOk {
  readonly ok: true;
  /** Syscall events (the seal not counted). */
  readonly events: number;
  /** Format 1 or 2 (see event.ts). */
  readonly version: number;
  /** Valid signed checkpoints read (format 2). */
  readonly checkpoints: number;
  readonly headHash: string;
  readonly runId: string;
  readonly seal: SealEvent;
}

export interface ChainFailure<C extends string = never> {
  readonly ok: false;
  readonly code: ChainFailureCode | C;
  /** 1-based line of the problem (for `unsealed`/`empty`: the line a seal was expected on). */
  readonly line: number;
  readonly detail: string;
  /** Events verified intact before the problem. */
  readonly events: number;
  readonly headHash: string;
  /** Of those, the events a valid signed checkpoint covers (the rest are signed by nothing). */
  readonly covered: number;
}

export type ChainResult<C extends string = never> = ChainOk | ChainFailure<C>;

/**
 * A hook that sees each intact event in order (signature checks, inspection) in the same
 * streaming pass; returning a problem fails the log at that line.
 */
export type EventVisitor<C extends string = never> = (
  event: FlightEvent,
  line: number,
) => { readonly code: C; readonly detail: string } | undefined;

/** A hook that sees each valid checkpoint line (signer checks) in the same pass. */
export type CheckpointVisitor<C extends string = never> = (
  line: CheckpointLine,
  at: number,
) => { readonly code: C; readonly detail: string } | undefined;

// ignoreBOM: a byte-order mark is content like any other byte, never silently dropped.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Incremental verifier: feed lines in order, then call finish(). */
export class ChainVerifier<C extends string = never> {
  #line = 0;
  #events = 0;
  #head = GENESIS_HASH;
  #runId: string | null = null;
  #seal: SealEvent | null = null;
  #version: number | null = null;
  readonly #checkpoints = new CheckpointBook();
  #failure: ChainFailure<C> | null = null;
  readonly #visit: EventVisitor<C> | undefined;
  readonly #visitCheckpoint: CheckpointVisitor<C> | undefined;
  readonly #checkedElsewhere: boolean;

  /**
   * `checkedElsewhere`: each line's form and hash are checked by the caller (a worker
   * thread), so a pass is only provisional until it confirms (verifyLogFile's fast pass).
   */
  constructor(
    visit?: EventVisitor<C>,
    visitCheckpoint?: CheckpointVisitor<C>,
    checkedElsewhere = false,
  ) {
    this.#visit = visit;
    this.#visitCheckpoint = visitCheckpoint;
    this.#checkedElsewhere = checkedElsewhere;
  }

  get failed(): boolean {
    return this.#failure !== null;
  }

  #fail(code: ChainFailureCode | C, detail: string): false {
    this.#failure = this.#failureAt(this.#line, code, detail);
    return false;
  }

  #failureAt(line: number, code: ChainFailureCode | C, detail: string): ChainFailure<C> {
    const covered = this.#checkpoints.covered;
    return { ok: false, code, line, detail, events: this.#events, headHash: this.#head, covered };
  }

  /** Check the next line. Returns false once the log has failed. */
  push(bytes: Uint8Array, terminated = true, oversized = false): boolean {
    if (this.#failure) return false;
    this.#line += 1;
    if (oversized) return this.#fail('line-too-long', `line exceeds ${MAX_EVENT_LINE_BYTES} bytes`);
    if (this.#seal)
      return this.#fail(
        'after-seal',
        'a line follows the seal: the log was appended to after it was sealed',
      );
    const read = readLine(bytes, terminated);
    if ('code' in read) return this.#fail(read.code, read.detail);
    const { event, text } = read;
    const version = this.#versionProblem(event);
    if (version) return this.#fail(version.code, version.detail);
    if (event.type === 'checkpoint') return this.#checkpoint(event, bytes, terminated);
    const problem =
      this.#chainProblem(event) ??
      integrityProblem(event, bytes, text, terminated, this.#checkedElsewhere) ??
      this.#runProblem(event) ??
      (event.type === 'seal' ? this.#sealProblem(event) : undefined);
    if (problem) return this.#fail(problem.code, problem.detail);
    if (event.type === 'seal') this.#seal = event;
    else this.#events += 1;
    this.#head = event.event_hash;
    if (event.type !== 'seal') this.#checkpoints.event(event.step, event.event_hash);
    const visited = this.#visit?.(event, this.#line);
    if (visited !== undefined) return this.#fail(visited.code, visited.detail);
    return true;
  }

  /** Every line of a log has the format of its first; checkpoints come with format 2. */
  #versionProblem(event: FlightEvent | CheckpointLine): LineProblem | undefined {
    this.#version ??= event.v;
    if (event.v !== this.#version) {
      return {
        code: 'bad-shape',
        detail: `format ${event.v} line in a format ${this.#version} log`,
      };
    }
    if (event.type === 'checkpoint' && event.v !== 2) {
      return { code: 'bad-shape', detail: 'a checkpoint in a format 1 log' };
    }
    return undefined;
  }

  /** A checkpoint line: checked against the chain so far, then shown to its visitor. */
  #checkpoint(line: CheckpointLine, bytes: Uint8Array, terminated: boolean): boolean {
    if (!terminated) return this.#fail('torn-tail', 'last line is incomplete (cut off mid-write)');
    const problem = this.#checkpoints.check(line, bytes, this.#events, this.#runId);
    if (problem) return this.#fail(problem.code, problem.detail);
    const visited = this.#visitCheckpoint?.(line, this.#line);
    if (visited !== undefined) return this.#fail(visited.code, visited.detail);
    return true;
  }

  /** Whether the event is the next link: its step and previous hash follow the line before. */
  #chainProblem(event: FlightEvent): LineProblem | undefined {
    if (event.step !== this.#events + 1) {
      return {
        code: 'step-mismatch',
        detail: `expected step ${this.#events + 1}, found ${event.step}: a line was deleted, inserted or reordered`,
      };
    }
    if (event.previous_hash !== this.#head) {
      return {
        code: 'chain-broken',
        detail: 'previous_hash does not match the hash of the line before',
      };
    }
    return undefined;
  }

  /** Whether the event belongs to the run the first line named. */
  #runProblem(event: FlightEvent): LineProblem | undefined {
    if (this.#runId === null) this.#runId = event.run_id;
    else if (event.run_id !== this.#runId) {
      return { code: 'run-mismatch', detail: 'event belongs to another run (run_id differs)' };
    }
    return undefined;
  }

  /** Whether a seal closes exactly the events before it, for its own run, and is signed. */
  #sealProblem(event: SealEvent): LineProblem | undefined {
    const seal = event.seal;
    if (seal.event_count !== this.#events || seal.head_hash !== this.#head) {
      return {
        code: 'seal-mismatch',
        detail: 'seal count or head hash does not match the events before it',
      };
    }
    if (seal.run_id !== event.run_id || seal.ts !== event.ts || seal.agent_id !== event.agent_id) {
      return {
        code: 'seal-mismatch',
        detail: 'seal run_id, ts or agent_id does not match its event',
      };
    }
    if (!verifyRecordSignature(SEAL_DOMAIN, seal)) {
      return { code: 'seal-signature', detail: 'seal signature does not verify' };
    }
    return undefined;
  }

  finish(): ChainResult<C> {
    if (this.#failure) return this.#failure;
    if (this.#seal === null) {
      return this.#events === 0
        ? this.#failureAt(1, 'empty', 'the log holds no events')
        : this.#failureAt(
            this.#line + 1,
            'unsealed',
            'unsealed: possibly truncated (no seal after the last event)',
          );
    }
    return {
      ok: true,
      events: this.#events,
      version: this.#version ?? 1,
      checkpoints: this.#checkpoints.count,
      headHash: this.#seal.previous_hash,
      runId: this.#runId ?? '',
      seal: this.#seal,
    };
  }
}

/**
 * Logs from this size on are read and checked on a second thread (given a second core):
 * starting the worker costs about 0.1 s, which it wins back from about 20,000 lines on.
 */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Verify a log file, streaming. Throws AgentkError only if the file cannot be read. A
 * large log with no visitor (which would see its events twice) first takes a fast pass:
 * a worker thread reads the lines and checks their bytes, this thread parses and chains
 * them. Its result stands only when it passed and the worker confirmed every line.
 * Anything else (a failure anywhere, a worker that could not run) is decided by the
 * exact pass, which names the line.
 */
export function verifyLogFile<C extends string = never>(
  path: string,
  visit?: EventVisitor<C>,
  visitCheckpoint?: CheckpointVisitor<C>,
): ChainResult<C> {
  if (!existsSync(path)) throw new AgentkError('FILE_NOT_FOUND', `no such log: ${path}`);
  const stat = statSync(path);
  if (!stat.isFile()) throw new AgentkError('FILE_UNREADABLE', `not a file: ${path}`);
  const checked =
    visit === undefined &&
    visitCheckpoint === undefined &&
    stat.size >= PARALLEL_MIN_BYTES &&
    availableParallelism() >= 2
      ? CheckedLines.open(path)
      : null;
  if (checked) {
    let fast: ChainResult<C> | null = null;
    try {
      const verifier = new ChainVerifier<C>(undefined, undefined, true);
      for (const line of checked.lines()) if (!verifier.push(line)) break;
      fast = verifier.finish();
    } finally {
      if (!checked.finish()) fast = null;
    }
    if (fast && (fast.ok || fast.code === 'unsealed')) return fast;
  }
  const verifier = new ChainVerifier<C>(visit, visitCheckpoint);
  try {
    for (const raw of readLines(path, MAX_EVENT_LINE_BYTES)) {
      if (!verifier.push(raw.bytes, raw.terminated, raw.oversized)) break;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new AgentkError('FILE_UNREADABLE', `cannot read log ${path} (${code})`);
  }
  return verifier.finish();
}

/** Verify a log held in memory (tests, embedders). */
export function verifyLogText<C extends string = never>(
  text: string,
  visit?: EventVisitor<C>,
  visitCheckpoint?: CheckpointVisitor<C>,
): ChainResult<C> {
  const verifier = new ChainVerifier<C>(visit, visitCheckpoint);
  const bytes = Buffer.from(text, 'utf8');
  let start = 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(10, start);
    const end = nl === -1 ? bytes.length : nl;
    const line = bytes.subarray(start, end);
    if (!verifier.push(line, nl !== -1, line.length > MAX_EVENT_LINE_BYTES)) break;
    start = end + 1;
  }
  return verifier.finish();
}

interface LineProblem {
  readonly code: ChainFailureCode;
  readonly detail: string;
}

/** A line's bytes as text and a well-shaped event, or what is wrong with them. */
function readLine(
  bytes: Uint8Array,
  terminated: boolean,
): { readonly event: FlightEvent | CheckpointLine; readonly text: string } | LineProblem {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { code: 'not-utf8', detail: 'line is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return terminated
      ? { code: 'not-json', detail: 'line is not valid JSON' }
      : { code: 'torn-tail', detail: 'last line is incomplete (cut off mid-write)' };
  }
  const shapeProblem = eventShapeProblem(value);
  if (shapeProblem) return { code: 'bad-shape', detail: shapeProblem };
  return { event: value as FlightEvent | CheckpointLine, text };
}
