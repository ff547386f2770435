// Chain verification of a flight log (docs/flight-log.md). Streams the file line by line:
// every line must be exactly the canonical encoding of its event, carry the next step,
// chain to the previous event's hash, and hash to its own event_hash. A clean end needs a
// seal whose signature, count and head match; a log without one is "unsealed", which is
// reported apart from tampering.
// Input distrusted: every byte of the log.

import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isHex64 } from '../crypto/index.js';
import { SEAL_DOMAIN, verifyRecordSignature } from '../crypto/signing.js';
import { AgentkError } from '../errors.js';
import { isLabel } from '../labels/labels.js';
import { isSinkClass } from '../vocabulary.js';
import { CheckedLines } from './checked-lines.js';
import { EVENT_FORMAT_VERSION, type FlightEvent, GENESIS_HASH, type SealEvent } from './event.js';
import { integrityProblem } from './line-integrity.js';
import { readLines } from './lines.js';

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
  | 'after-seal';

export interface ChainOk {
  readonly ok: true;
  /** Syscall events (the seal not counted). */
  readonly events: number;
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

// ignoreBOM: a byte-order mark is content like any other byte, never silently dropped.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const VERDICTS: readonly string[] = ['allow', 'deny', 'ask'];

/** Incremental verifier: feed lines in order, then call finish(). */
export class ChainVerifier<C extends string = never> {
  #line = 0;
  #events = 0;
  #head = GENESIS_HASH;
  #runId: string | null = null;
  #seal: SealEvent | null = null;
  #failure: ChainFailure<C> | null = null;
  readonly #visit: EventVisitor<C> | undefined;
  readonly #checkedElsewhere: boolean;

  /**
   * `checkedElsewhere`: each line's form and hash are checked by the caller (a worker
   * thread), so a pass is only provisional until it confirms (verifyLogFile's fast pass).
   */
  constructor(visit?: EventVisitor<C>, checkedElsewhere = false) {
    this.#visit = visit;
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
    return { ok: false, code, line, detail, events: this.#events, headHash: this.#head };
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
    const problem =
      this.#chainProblem(event) ??
      integrityProblem(event, bytes, text, terminated, this.#checkedElsewhere) ??
      this.#runProblem(event) ??
      (event.type === 'seal' ? this.#sealProblem(event) : undefined);
    if (problem) return this.#fail(problem.code, problem.detail);
    if (event.type === 'seal') this.#seal = event;
    else this.#events += 1;
    this.#head = event.event_hash;
    const visited = this.#visit?.(event, this.#line);
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
): ChainResult<C> {
  if (!existsSync(path)) throw new AgentkError('FILE_NOT_FOUND', `no such log: ${path}`);
  const stat = statSync(path);
  if (!stat.isFile()) throw new AgentkError('FILE_UNREADABLE', `not a file: ${path}`);
  const checked =
    visit === undefined && stat.size >= PARALLEL_MIN_BYTES && availableParallelism() >= 2
      ? CheckedLines.open(path)
      : null;
  if (checked) {
    let fast: ChainResult<C> | null = null;
    try {
      const verifier = new ChainVerifier<C>(undefined, true);
      for (const line of checked.lines()) if (!verifier.push(line)) break;
      fast = verifier.finish();
    } finally {
      if (!checked.finish()) fast = null;
    }
    if (fast && (fast.ok || fast.code === 'unsealed')) return fast;
  }
  const verifier = new ChainVerifier<C>(visit);
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
): ChainResult<C> {
  const verifier = new ChainVerifier<C>(visit);
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The keys a record must have (all of `required`, nothing beyond `optional`). */
function keysProblem(
  what: string,
  record: Record<string, unknown>,
  required: readonly string[],
  optional: readonly string[] = [],
): string | undefined {
  for (const key of required) if (!(key in record)) return `${what} is missing ${key}`;
  for (const key of Object.keys(record)) {
    if (!required.includes(key) && !optional.includes(key))
      return `${what} has an unexpected field`;
  }
  return undefined;
}

const SYSCALL_EVENT_KEYS = [
  'v',
  'type',
  'step',
  'ts',
  'run_id',
  'agent_id',
  'syscall',
  'decision',
  'previous_hash',
  'event_hash',
];
const SEAL_EVENT_KEYS = [
  'v',
  'type',
  'step',
  'ts',
  'run_id',
  'agent_id',
  'seal',
  'previous_hash',
  'event_hash',
];
const SYSCALL_KEYS = [
  'kind',
  'target',
  'intent',
  'labels',
  'control_labels',
  'inputs',
  'capability',
  'sinks',
];
const DECISION_KEYS = [
  'verdict',
  'effect',
  'rule',
  'reason',
  'missing_capability',
  'receipt',
  'secret_handle',
  'request_hash',
];
const SEAL_KEYS = [
  'run_id',
  'ts',
  'agent_id',
  'event_count',
  'head_hash',
  'alg',
  'key_source',
  'public_key',
  'signature',
];

function isStringList(value: unknown, allowed?: (item: string) => boolean): boolean {
  return (
    Array.isArray(value) &&
    value.every((item) => typeof item === 'string' && (!allowed || allowed(item)))
  );
}

interface LineProblem {
  readonly code: ChainFailureCode;
  readonly detail: string;
}

/** A line's bytes as text and a well-shaped event, or what is wrong with them. */
function readLine(
  bytes: Uint8Array,
  terminated: boolean,
): { readonly event: FlightEvent; readonly text: string } | LineProblem {
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
  return { event: value as FlightEvent, text };
}

/**
 * Structural check of a parsed event: exactly the fields the writer produces, with the
 * right types, so that a verified log can be read by review tools without surprises and
 * no unsigned, unexpected field can ride along. Returns a reason, or undefined.
 */
function eventShapeProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'line is not a JSON object';
  if (value.v !== EVENT_FORMAT_VERSION)
    return `unsupported event format version ${JSON.stringify(value.v)}`;
  if (value.type !== 'syscall' && value.type !== 'seal') return 'unknown event type';
  const top = keysProblem(
    'event',
    value,
    value.type === 'seal' ? SEAL_EVENT_KEYS : SYSCALL_EVENT_KEYS,
  );
  if (top) return top;
  if (!Number.isSafeInteger(value.step) || (value.step as number) < 1)
    return 'step is not a positive integer';
  if (typeof value.ts !== 'string' || Number.isNaN(Date.parse(value.ts)))
    return 'ts is not a timestamp';
  if (typeof value.run_id !== 'string') return 'run_id is not a string';
  if (typeof value.agent_id !== 'string') return 'agent_id is not a string';
  if (!isHex64(value.previous_hash)) return 'previous_hash is not 64 hex digits';
  if (!isHex64(value.event_hash)) return 'event_hash is not 64 hex digits';
  if (value.type === 'seal') return sealShapeProblem(value.seal);
  return syscallShapeProblem(value.syscall) ?? decisionShapeProblem(value.decision);
}

function sealShapeProblem(seal: unknown): string | undefined {
  if (!isObject(seal)) return 'seal is not an object';
  const problem = keysProblem('seal', seal, SEAL_KEYS);
  if (problem) return problem;
  if (!Number.isSafeInteger(seal.event_count) || !isHex64(seal.head_hash)) {
    return 'seal event_count or head_hash is malformed';
  }
  return undefined;
}

function syscallShapeProblem(syscall: unknown): string | undefined {
  if (!isObject(syscall)) return 'syscall is not an object';
  const syscallProblem = keysProblem('syscall', syscall, SYSCALL_KEYS, ['detail']);
  if (syscallProblem) return syscallProblem;
  for (const key of ['kind', 'target', 'intent', 'capability'] as const) {
    if (typeof syscall[key] !== 'string') return `syscall ${key} is not a string`;
  }
  if (!isStringList(syscall.labels, isLabel) || !isStringList(syscall.control_labels, isLabel)) {
    return 'syscall labels are not known labels';
  }
  if (!isStringList(syscall.sinks, isSinkClass)) return 'syscall sinks are not sink classes';
  if (syscall.detail !== undefined && !isObject(syscall.detail))
    return 'syscall detail is not an object';
  if (!Array.isArray(syscall.inputs)) return 'syscall inputs is not a list';
  for (const input of syscall.inputs) {
    if (!isObject(input) || keysProblem('input', input, ['ref', 'sha256'], ['labels'])) {
      return 'a syscall input is malformed';
    }
    if (typeof input.ref !== 'string' || !isHex64(input.sha256))
      return 'a syscall input is malformed';
    if (input.labels !== undefined && !isStringList(input.labels, isLabel))
      return 'a syscall input has unknown labels';
  }
  return undefined;
}

function decisionShapeProblem(decision: unknown): string | undefined {
  if (!isObject(decision)) return 'decision is not an object';
  const decisionProblem = keysProblem('decision', decision, DECISION_KEYS, ['shadow']);
  if (decisionProblem) return decisionProblem;
  if (
    !VERDICTS.includes(decision.verdict as string) ||
    !VERDICTS.includes(decision.effect as string)
  ) {
    return 'decision has an unknown verdict or effect';
  }
  if (typeof decision.rule !== 'string' || typeof decision.reason !== 'string') {
    return 'decision rule or reason is not a string';
  }
  if (decision.missing_capability !== null && typeof decision.missing_capability !== 'string') {
    return 'decision missing_capability is malformed';
  }
  if (decision.receipt !== null && !isObject(decision.receipt))
    return 'decision receipt is malformed';
  if (decision.secret_handle !== null && !isObject(decision.secret_handle)) {
    return 'decision secret_handle is malformed';
  }
  if (!isHex64(decision.request_hash)) return 'decision request_hash is not 64 hex digits';
  const shadow = decision.shadow;
  if (
    shadow !== undefined &&
    (!isObject(shadow) ||
      keysProblem('shadow', shadow, ['effect', 'rule']) !== undefined ||
      !VERDICTS.includes(shadow.effect as string) ||
      typeof shadow.rule !== 'string')
  ) {
    return 'decision shadow is malformed';
  }
  return undefined;
}
