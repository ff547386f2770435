// Signature verification of a flight log, in the same streaming pass as the chain check:
// every receipt and secret handle must be bound to the event it sits on (syscall, target,
// scope, step, agent, run, previous hash), be unexpired when used and never reused; every
// signature (handles, checkpoints and the seal; in format 1 logs each receipt too) must be
// Ed25519, verify under the key it names, come from the run's one signer and, with pins,
// a pinned key. A format 2 receipt is authenticated by the checkpoint or seal covering its
// event (the chain verifier checks those): events after the last of them are reported as
// covered by no signature. Anything else fails at that line with its own code.
// Input distrusted: every field of every event.

import { statSync } from 'node:fs';
import { fingerprintOf } from '../crypto/index.js';
import {
  HANDLE_DOMAIN,
  RECEIPT_DOMAIN,
  signatureCheck,
  verifyRecordSignature,
} from '../crypto/signing.js';
import type { CheckpointLine, FlightEvent, SyscallEvent } from '../recorder/event.js';
import { keysProblem } from '../recorder/shape.js';
import {
  type ChainResult,
  ChainVerifier,
  type CheckpointVisitor,
  type EventVisitor,
  verifyLogFile,
  verifyLogText,
} from '../recorder/verify.js';
import { isSyscallKind, OBSERVATION_KINDS } from '../vocabulary.js';
import { isDevelopmentKey } from './keys.js';
import { SignaturePool } from './signature-pool.js';
import type { TrustPins } from './trust.js';

export type SignatureFailureCode =
  | 'receipt-missing'
  | 'receipt-unexpected'
  | 'receipt-shape'
  | 'receipt-signature'
  | 'receipt-binding'
  | 'receipt-expired'
  | 'receipt-reused'
  | 'handle-misplaced'
  | 'handle-shape'
  | 'handle-signature'
  | 'handle-binding'
  | 'handle-expired'
  | 'handle-reused'
  | 'algorithm'
  | 'untrusted-signer'
  | 'signer-changed';

export interface SignerSummary {
  readonly fingerprint: string;
  readonly keySources: readonly string[];
  readonly signatures: number;
  /** The pin's label when pins were given and the key is pinned. */
  readonly label?: string;
}

export interface SignatureReport {
  readonly receipts: number;
  readonly handles: number;
  readonly seals: number;
  readonly checkpoints: number;
  readonly signers: readonly SignerSummary[];
}

export interface SignatureVerification {
  readonly chain: ChainResult<SignatureFailureCode>;
  readonly report: SignatureReport;
  /** 2 when the result is the confirmed fast pass (signatures on a worker thread). */
  readonly threads: 1 | 2;
}

type Problem = { readonly code: SignatureFailureCode; readonly detail: string } | undefined;

const RECEIPT_ID = /^rcpt_[0-9a-f]{32}$/;
/** A format 2 receipt: its binding, no signature of its own. */
const RECEIPT_V2_KEYS = [
  'agent_id',
  'expires_at',
  'id',
  'issued_at',
  'previous_hash',
  'run_id',
  'scope',
  'step',
  'syscall',
  'target',
];
const HANDLE_ID = /^secret_fd_[0-9a-f]{32}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function time(value: unknown): number {
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}

class SignatureChecker {
  receipts = 0;
  handles = 0;
  seals = 0;
  checkpoints = 0;
  readonly #signers = new Map<string, { sources: Set<string>; count: number }>();
  readonly #receiptIds = new Set<string>();
  readonly #handleIds = new Set<string>();
  readonly #pins: TrustPins | undefined;
  /** Where signatures go to be verified later, beside this pass (see verifySignaturesFile). */
  readonly #pool: SignaturePool | null;

  constructor(pins: TrustPins | undefined, pool: SignaturePool | null = null) {
    this.#pins = pins;
    this.#pool = pool;
  }

  /** Algorithm, signature and pin of one signed record. */
  #signed(what: string, domain: string | null, record: Record<string, unknown>): Problem {
    if (record.alg !== 'Ed25519') {
      return {
        code: 'algorithm',
        detail: `${what} uses algorithm ${JSON.stringify(record.alg)}; only Ed25519 is accepted`,
      };
    }
    if (domain !== null) {
      const check = this.#pool ? signatureCheck(domain, record) : null;
      if (check !== null) this.#pool?.add(check);
      else if (!verifyRecordSignature(domain, record)) {
        return {
          code: what === 'receipt' ? 'receipt-signature' : 'handle-signature',
          detail: `${what} signature does not verify (forged or altered)`,
        };
      }
    }
    const key = record.public_key as string;
    if (this.#pins && !this.#pins.trusts(key)) {
      return {
        code: 'untrusted-signer',
        detail: `${what} signed by ${fingerprintOf(key)}, which is not a pinned trusted key`,
      };
    }
    // One run is signed by one key: a second one means records were re-signed (a tail
    // edited and sealed again by another key), pins or not. (A rotation starts a new run.)
    const first = this.#signers.keys().next().value;
    if (first !== undefined && first !== key) {
      return {
        code: 'signer-changed',
        detail: `${what} signed by ${fingerprintOf(key)}, but this run was signed by ${fingerprintOf(first)} before: one run has one signer`,
      };
    }
    const signer = this.#signers.get(key) ?? { sources: new Set<string>(), count: 0 };
    // The development key is recognised by the key, whatever the record claims.
    signer.sources.add(isDevelopmentKey(key) ? 'development' : String(record.key_source));
    signer.count += 1;
    this.#signers.set(key, signer);
    return undefined;
  }

  /** A checkpoint the chain verifier found valid: its signer, like every other. */
  visitCheckpoint = (line: CheckpointLine): Problem => {
    this.checkpoints += 1;
    return this.#signed('checkpoint', null, line.checkpoint as unknown as Record<string, unknown>);
  };

  visit = (event: FlightEvent): Problem => {
    if (event.type === 'seal') {
      this.seals += 1;
      // The chain verifier already checked the seal's signature, count and head.
      return this.#signed('seal', null, event.seal as unknown as Record<string, unknown>);
    }
    // A sandbox event carries no signature: the chain, the checkpoints and the seal cover it.
    if (event.type === 'sandbox') return undefined;
    return this.#receipt(event) ?? this.#handle(event);
  };

  #receipt(event: SyscallEvent): Problem {
    const { receipt, verdict } = event.decision;
    if (verdict !== 'allow') {
      return receipt === null
        ? undefined
        : { code: 'receipt-unexpected', detail: `a ${verdict} decision carries a receipt` };
    }
    if (!isRecord(receipt)) {
      // What a server showed the agent carries no receipt (older logs carry one, checked
      // like any other below).
      const { kind } = event.syscall;
      if (receipt === null && isSyscallKind(kind) && OBSERVATION_KINDS.has(kind)) return undefined;
      return { code: 'receipt-missing', detail: 'an allowed action has no receipt' };
    }
    const problem = receiptShapeProblem(event.v, receipt) ?? this.#receiptSignature(event, receipt);
    if (problem) return problem;
    const { kind, target } = event.syscall;
    const bindings: [string, unknown, unknown][] = [
      ['syscall', receipt.syscall, kind],
      ['target', receipt.target, target],
      ['scope', receipt.scope, `${kind}:${target}`],
      ['step', receipt.step, event.step],
      ['agent_id', receipt.agent_id, event.agent_id],
      ['run_id', receipt.run_id, event.run_id],
      ['previous_hash', receipt.previous_hash, event.previous_hash],
    ];
    for (const [field, bound, actual] of bindings) {
      if (bound !== actual) {
        return {
          code: 'receipt-binding',
          detail: `receipt ${field} is ${JSON.stringify(bound)} but the event's is ${JSON.stringify(actual)} (swapped, copied or altered)`,
        };
      }
    }
    const used = time(event.ts);
    if (!(time(receipt.issued_at) <= used && used <= time(receipt.expires_at))) {
      return {
        code: 'receipt-expired',
        detail: 'receipt was not valid when the syscall was decided',
      };
    }
    if (this.#receiptIds.has(receipt.id)) {
      return { code: 'receipt-reused', detail: 'receipt id already used earlier in the log' };
    }
    this.#receiptIds.add(receipt.id);
    this.receipts += 1;
    return undefined;
  }

  /** Format 1: the receipt's own signature. Format 2 has none (a checkpoint covers it). */
  #receiptSignature(event: SyscallEvent, receipt: Record<string, unknown>): Problem {
    return event.v === 1 ? this.#signed('receipt', RECEIPT_DOMAIN, receipt) : undefined;
  }

  #handle(event: SyscallEvent): Problem {
    const handle = event.decision.secret_handle as unknown;
    if (handle === null) return undefined;
    if (event.syscall.kind !== 'secret.open' || event.decision.verdict !== 'allow') {
      return {
        code: 'handle-misplaced',
        detail: 'a secret handle sits on something other than an allowed secret.open',
      };
    }
    if (!isRecord(handle) || typeof handle.id !== 'string' || !HANDLE_ID.test(handle.id)) {
      return { code: 'handle-shape', detail: 'secret handle is malformed' };
    }
    const signed = this.#signed('secret handle', HANDLE_DOMAIN, handle);
    if (signed) return signed;
    const receipt = event.decision.receipt;
    if (handle.receipt_id !== receipt?.id) {
      return { code: 'handle-binding', detail: 'secret handle is bound to another receipt' };
    }
    if (handle.target !== event.syscall.target) {
      return {
        code: 'handle-binding',
        detail: 'secret handle names another secret than its secret.open',
      };
    }
    if (JSON.stringify(handle.labels) !== '["private","secret"]') {
      return {
        code: 'handle-binding',
        detail: 'secret handle does not carry exactly private and secret',
      };
    }
    const used = time(event.ts);
    if (!(time(handle.issued_at) <= used && used <= time(handle.expires_at))) {
      return {
        code: 'handle-expired',
        detail: 'secret handle had expired (or was not yet valid) when issued',
      };
    }
    if (this.#handleIds.has(handle.id)) {
      return {
        code: 'handle-reused',
        detail: 'secret handle id already issued earlier in the log',
      };
    }
    this.#handleIds.add(handle.id);
    this.handles += 1;
    return undefined;
  }

  report(): SignatureReport {
    return {
      receipts: this.receipts,
      handles: this.handles,
      seals: this.seals,
      checkpoints: this.checkpoints,
      signers: [...this.#signers].map(([key, { sources, count }]) => {
        const label = this.#pins?.label(key);
        return {
          fingerprint: fingerprintOf(key),
          keySources: [...sources].sort(),
          signatures: count,
          ...(label !== undefined ? { label } : {}),
        };
      }),
    };
  }
}

/** What is wrong with the shape of a receipt of a format `version` log, or undefined. */
function receiptShapeProblem(version: number, receipt: Record<string, unknown>): Problem {
  if (typeof receipt.id !== 'string' || !RECEIPT_ID.test(receipt.id)) {
    return { code: 'receipt-shape', detail: 'receipt id is malformed' };
  }
  if (version === 1) {
    return typeof receipt.signature === 'string' && typeof receipt.public_key === 'string'
      ? undefined
      : { code: 'receipt-shape', detail: 'receipt is missing its key or signature' };
  }
  const problem = keysProblem('receipt', receipt, RECEIPT_V2_KEYS);
  return problem === undefined ? undefined : { code: 'receipt-shape', detail: problem };
}

/** Logs from this size on verify their signatures on a second thread. */
const PARALLEL_MIN_BYTES = 2 * 1024 * 1024;

/**
 * Verify chain and signatures of a log file in one streaming pass. A large log first
 * takes a fast pass with signatures verified on a worker thread beside the chain check;
 * its result stands only when every check passed. Anything else (a failure anywhere, a
 * worker that could not run) is decided by the exact pass below, which names the line.
 */
export function verifySignaturesFile(
  path: string,
  pins?: TrustPins,
  observer?: VerifiedEventObserver,
): SignatureVerification {
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    // verifyLogFile reports a missing or unreadable log.
  }
  const pool = size >= PARALLEL_MIN_BYTES ? SignaturePool.start() : null;
  if (pool) {
    let fast: SignatureVerification | null = null;
    try {
      const checker = new SignatureChecker(pins, pool);
      const chain = verifyLogFile<SignatureFailureCode>(
        path,
        observed(checker, observer),
        observedCheckpoint(checker, observer),
      );
      fast = { chain, report: checker.report(), threads: 2 };
    } finally {
      const confirmed = pool.finish();
      if (!confirmed) fast = null;
    }
    if (fast && (fast.chain.ok || fast.chain.code === 'unsealed')) return fast;
  }
  observer?.restart();
  const checker = new SignatureChecker(pins);
  const chain = verifyLogFile<SignatureFailureCode>(
    path,
    observed(checker, observer),
    observedCheckpoint(checker, observer),
  );
  return { chain, report: checker.report(), threads: 1 };
}

/**
 * The checks of verifySignaturesFile fed one line at a time, so that a log being written
 * can be verified as it grows, continuing its chain from the last line checked (the
 * viewer's live mode). `result()` may be asked between lines: a log without its seal yet
 * is `unsealed`, as verifySignaturesFile says of it.
 */
export class SignatureStream {
  readonly #checker: SignatureChecker;
  readonly #verifier: ChainVerifier<SignatureFailureCode>;

  constructor(pins?: TrustPins, observer?: VerifiedEventObserver) {
    this.#checker = new SignatureChecker(pins);
    this.#verifier = new ChainVerifier<SignatureFailureCode>(
      observed(this.#checker, observer),
      observedCheckpoint(this.#checker, observer),
    );
  }

  /** Check the next line (without its newline). False once the log has failed. */
  push(bytes: Uint8Array, terminated = true, oversized = false): boolean {
    return this.#verifier.push(bytes, terminated, oversized);
  }

  result(): SignatureVerification {
    return { chain: this.#verifier.finish(), report: this.#checker.report(), threads: 1 };
  }
}

/**
 * Who sees each event (and the seal) that passed every check of its line, with its line
 * number, in the same pass (the viewer reads a log once). A second, exact pass starts
 * over: `restart` says so, and what was seen before it is to be forgotten.
 */
export interface VerifiedEventObserver {
  event(event: FlightEvent, line: number): void;
  /** A checkpoint line that passed every check (its head, count and signature), and its line. */
  checkpoint?(line: CheckpointLine, at: number): void;
  restart(): void;
}

/** The checker's checkpoint visit, telling `observer` of each that passed. */
function observedCheckpoint(
  checker: SignatureChecker,
  observer: VerifiedEventObserver | undefined,
): CheckpointVisitor<SignatureFailureCode> {
  const seen = observer?.checkpoint?.bind(observer);
  if (seen === undefined) return checker.visitCheckpoint;
  return (line, at) => {
    const problem = checker.visitCheckpoint(line);
    if (problem === undefined) seen(line, at);
    return problem;
  };
}

function observed(
  checker: SignatureChecker,
  observer: VerifiedEventObserver | undefined,
): EventVisitor<SignatureFailureCode> {
  if (observer === undefined) return checker.visit;
  return (event, line) => {
    const problem = checker.visit(event);
    if (problem === undefined) observer.event(event, line);
    return problem;
  };
}

export function verifySignaturesText(text: string, pins?: TrustPins): SignatureVerification {
  const checker = new SignatureChecker(pins);
  const chain = verifyLogText<SignatureFailureCode>(text, checker.visit, checker.visitCheckpoint);
  return { chain, report: checker.report(), threads: 1 };
}
