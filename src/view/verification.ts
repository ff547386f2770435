// The viewer's verification banner, as data: computed here, in Node, by the very code
// `agentk verify-signatures` runs (chain, seal, checkpoints, receipts, handles, signers,
// pins), never re-implemented in the page. The page only shows what this says.
// Input distrusted: every byte of the log; the excerpt of a failing line is shown as text.

import type { TrustPins } from '../evidence/trust.js';
import {
  type SignatureVerification,
  type VerifiedEventObserver,
  verifySignaturesFile,
} from '../evidence/verify-signatures.js';
import { readLines } from '../recorder/lines.js';
import { MAX_EVENT_LINE_BYTES } from '../recorder/verify.js';

export type ViewStatus = 'verified' | 'unsealed' | 'failed';

/** The banner's status word. */
export const STATUS_WORD: Record<ViewStatus, string> = {
  verified: 'VERIFIED',
  unsealed: 'UNSEALED',
  failed: 'FAILED',
};

export interface ViewFailure {
  /** 1-based line of the file where verification stopped. */
  readonly line: number;
  readonly code: string;
  readonly detail: string;
  /** The start of that line as text (invalid bytes replaced), or null past the end. */
  readonly excerpt: string | null;
  /** Lines after it, not shown: nothing after a failing line can be trusted. */
  readonly later_lines: number;
}

export interface ViewSigner {
  readonly fingerprint: string;
  readonly key_sources: readonly string[];
  readonly signatures: number;
  readonly label?: string;
}

export interface ViewVerification {
  readonly status: ViewStatus;
  /** One line for the banner, after its status word (VERIFIED, UNSEALED, FAILED). */
  readonly headline: string;
  /** Further lines: what was checked, who signed, what no signature covers. */
  readonly details: readonly string[];
  /** Events verified intact (before any failure). */
  readonly events: number;
  /** Of those, the events a signed checkpoint or the seal covers. */
  readonly covered: number;
  readonly failure: ViewFailure | null;
  readonly signers: readonly ViewSigner[];
  readonly development_key: boolean;
  readonly pinned_keys: number;
  /** Live mode: a line verified before changed while the viewer watched (its line). */
  readonly tampered?: { readonly line: number };
}

/** Bytes of a failing line shown: enough to recognise it, bounded whatever the file holds. */
const EXCERPT_BYTES = 2048;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/**
 * Verify `path` as `agentk verify-signatures` does, and say it for the banner; `observer`
 * sees each event that verified, in the same pass.
 */
export function verifyForView(
  path: string,
  pins?: TrustPins,
  observer?: VerifiedEventObserver,
): ViewVerification {
  return verificationOf(path, verifySignaturesFile(path, pins, observer), pins);
}

/** A verification of `path` (verifySignaturesFile, or a SignatureStream's), for the banner. */
export function verificationOf(
  path: string,
  { chain, report }: SignatureVerification,
  pins?: TrustPins,
): ViewVerification {
  const signers: ViewSigner[] = report.signers.map((signer) => ({
    fingerprint: signer.fingerprint,
    key_sources: signer.keySources,
    signatures: signer.signatures,
    ...(signer.label !== undefined ? { label: signer.label } : {}),
  }));
  const development = report.signers.some((signer) => signer.keySources.includes('development'));
  const counted = `${plural(report.receipts, 'receipt')}, ${plural(report.handles, 'secret handle')}, ${plural(report.checkpoints, 'checkpoint')}, ${plural(report.seals, 'seal')}`;
  const details: string[] = [];
  for (const signer of signers) {
    const label = signer.label !== undefined ? ` "${signer.label}"` : '';
    details.push(
      `signer ${signer.fingerprint}${label} (${signer.key_sources.join(', ')} key): ${plural(signer.signatures, 'signature')}`,
    );
  }
  if (pins) details.push(`pinned to ${plural(pins.size, 'trusted key')}`);
  else details.push('no trusted keys pinned: any key that signs consistently passes');
  if (development) {
    details.push(
      'the development key is public: its signatures prove nothing about who wrote the log',
    );
  }
  const base = { signers, development_key: development, pinned_keys: pins?.size ?? 0 };
  if (chain.ok) {
    return {
      ...base,
      status: 'verified',
      headline: `${plural(chain.events, 'event')}, hash chain intact, sealed; ${counted} verified and bound to their events`,
      details,
      events: chain.events,
      covered: chain.events,
      failure: null,
    };
  }
  if (chain.code === 'unsealed') {
    const tail =
      chain.covered >= chain.events
        ? 'every event is covered by a signed checkpoint'
        : `events ${chain.covered + 1}-${chain.events} are covered by no signature (hash-chained only)`;
    return {
      ...base,
      status: 'unsealed',
      headline: `${plural(chain.events, 'event')} intact, but the log has no seal (cut short, or still being written); ${tail}`,
      details: [`${counted} verified`, ...details],
      events: chain.events,
      covered: chain.covered,
      failure: null,
    };
  }
  return {
    ...base,
    status: 'failed',
    headline: `verification fails at line ${chain.line}: ${chain.detail} [${chain.code}]`,
    details: [
      `${plural(chain.events, 'event')} before it verify; nothing from line ${chain.line} on can be trusted`,
      ...details,
    ],
    events: chain.events,
    covered: chain.covered,
    failure: {
      line: chain.line,
      code: chain.code,
      detail: chain.detail,
      ...lineExcerpt(path, chain.line),
    },
  };
}

const lenient = new TextDecoder('utf-8', { fatal: false });

/** The start of line `line` of the file, and how many lines follow it. */
function lineExcerpt(path: string, line: number): { excerpt: string | null; later_lines: number } {
  let excerpt: string | null = null;
  let later = 0;
  try {
    for (const raw of readLines(path, MAX_EVENT_LINE_BYTES)) {
      if (raw.number === line) excerpt = lenient.decode(raw.bytes.subarray(0, EXCERPT_BYTES));
      else if (raw.number > line) later += 1;
    }
  } catch {
    // The file went away or cannot be read now: the failure itself still stands.
  }
  return { excerpt, later_lines: later };
}
