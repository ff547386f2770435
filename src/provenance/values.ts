// Value provenance: which earlier context pages an argument's values came from. Two
// indexes, both hash maps so that matching an argument costs the same however large the
// context grows: exact values (URLs, e-mail addresses, paths, long numbers, IBANs, and
// command spans: inline code, code-block lines, text after "run:" or a shell prompt; found
// by extract.ts), and winnowed fingerprints of long shared substrings (fingerprints.ts).
// Beside them: short codes private pages state (codes.ts) and, for exec sinks, commands
// too short to fingerprint copied verbatim (short-copies.ts). The index has a budget;
// pages beyond it are not fingerprinted, and their labels are then joined into every
// lookup instead (fail closed: a copy from an unindexed page cannot slip through).
// Input distrusted: page text and argument values.

import { isUtf8 } from 'node:buffer';
import { homedir } from 'node:os';
import { INTEGRITY_TAINT, POISONED, PRIVATE, SECRET } from '../labels/labels.js';
import { codeCandidates, codesIn } from './codes.js';
import { argumentValues, pageValues } from './extract.js';
import { canonicalText, FingerprintTable, foldText, winnow, winnowPicks } from './fingerprints.js';
import { LineageBook, winnowOutside } from './lineage.js';
import { ShortCopies } from './short-copies.js';

export { extractValues } from './extract.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export interface DecodedBlob {
  readonly text: string;
  /** How `text` maps to the bytes: UTF-8 text, or latin1 (one character per byte). */
  readonly encoding: 'utf8' | 'latin1';
}

/** Whether every character is in the base64 or base64url alphabet (padding at the end). */
function base64Alphabet(value: string): boolean {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x3d) end -= 1; // trailing '='
  if (value.length - end > 2) return false;
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) || // A-Z
      (c >= 0x61 && c <= 0x7a) || // a-z
      (c >= 0x30 && c <= 0x39) || // 0-9
      c === 0x2b || // +
      c === 0x2f || // /
      c === 0x2d || // -
      c === 0x5f; // _
    if (!ok) return false;
  }
  return true;
}

/**
 * What a base64 `blob` (MCP's embedded binary resources) holds, decoded leniently (line
 * breaks and spaces, the url-safe alphabet, missing padding): as text when it is UTF-8,
 * otherwise as latin1, so that a credential inside binary data is still scanned and can
 * be replaced byte for byte. null when it is not base64 at all.
 */
export function decodedBlob(value: string): DecodedBlob | null {
  const compact = /\s/.test(value) ? value.replace(/\s+/g, '') : value;
  if (compact.length < 8 || !base64Alphabet(compact)) return null;
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length === 0) return null;
  try {
    return { text: strictUtf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: bytes.toString('latin1'), encoding: 'latin1' };
  }
}

const ENCODED_TOKEN = /[A-Za-z0-9+/_-]{16,65536}={0,2}/g;
const MIN_ENCODED_TOKEN = 16;
const HEX_ONLY = /^(?:[0-9a-fA-F]{2})+$/;
const PERCENT_ENCODED = /%[0-9A-Fa-f]{2}/;

/** How much decoding one syscall may do (shared by all its arguments). */
export interface DecodeBudget {
  tokens: number;
  chars: number;
}

export function decodeBudget(): DecodeBudget {
  return { tokens: 256, chars: 1024 * 1024 };
}

/** Decoded bytes, if they are text (valid UTF-8, almost all printable); else null. */
function asText(bytes: Buffer): string | null {
  // Most tokens (a path, a word run) decode to bytes that are not UTF-8: checked first, as
  // the decoder would judge them, since its throw costs more than the check.
  if (bytes.length < 6 || !isUtf8(bytes)) return null;
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return null;
  }
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) control += 1;
  }
  return control * 20 <= text.length ? text : null;
}

/**
 * What an argument says once decoded, one level deep: percent-encoding, and every long
 * base64, base64url or hex token that decodes to text. An agent that encodes what it
 * read before sending it (a query string, a subdomain) is still traced to the page.
 * `exhausted` means the budget ran out before everything was decoded: the caller must
 * then assume the worst of what it could not see (fail closed).
 */
export function decodedForms(
  text: string,
  budget: DecodeBudget,
): { forms: string[]; exhausted: boolean } {
  const forms: string[] = [];
  let exhausted = false;
  const add = (decoded: string | null) => {
    if (decoded === null) return;
    if (decoded.length > budget.chars) {
      exhausted = true;
      return;
    }
    budget.chars -= decoded.length;
    forms.push(decoded);
  };
  const sources = [text];
  if (PERCENT_ENCODED.test(text)) {
    try {
      const unescaped = decodeURIComponent(text);
      add(unescaped);
      sources.push(unescaped);
    } catch {
      // malformed escapes: the raw text is still examined
    }
  }
  for (const source of sources) {
    // A text shorter than a token holds none (the regex's lastIndex is reset for each).
    if (source.length < MIN_ENCODED_TOKEN) continue;
    ENCODED_TOKEN.lastIndex = 0;
    for (let match = ENCODED_TOKEN.exec(source); match; match = ENCODED_TOKEN.exec(source)) {
      if (budget.tokens <= 0) return { forms, exhausted: true };
      budget.tokens -= 1;
      const token = match[0];
      if (HEX_ONLY.test(token)) add(asText(Buffer.from(token, 'hex')));
      const base64 = token.replace(/-/g, '+').replace(/_/g, '/');
      add(asText(Buffer.from(base64, 'base64')));
    }
  }
  return { forms, exhausted };
}

/**
 * Every string inside a JSON-like value (keys included, and the decoded text of base64
 * `blob` members), in document order, or null when
 * there are more than `limit`: a caller must then refuse the value, never scan part of it.
 */
export function stringsOf(value: unknown, limit = 100_000): string[] | null {
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') out.push(item);
    else if (typeof item === 'number' || typeof item === 'bigint') out.push(String(item));
    else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
    } else if (typeof item === 'object' && item !== null) {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        const decoded = key === 'blob' && typeof child === 'string' ? decodedBlob(child) : null;
        if (decoded !== null) stack.push(decoded.text);
        stack.push(child, key);
      }
    }
    if (out.length > limit || stack.length > 4 * limit) return null;
  }
  return out;
}

/** Where one value was seen. */
export interface ValueOrigin {
  readonly pageId: string;
  readonly labels: number;
}

/** Fingerprints the index holds at most (about 8 bytes of page text per fingerprint). */
export const DEFAULT_FINGERPRINT_BUDGET = 2_000_000;
/** Distinct exact values the index holds at most (beyond: fail closed). */
export const MAX_VALUES = 1_000_000;
/**
 * Encoded forms of secrets checked against every argument (beyond: fail closed). Room for
 * the five forms of each secret a run may capture (the vault's MAX_CAPTURED_SECRETS, 2,000)
 * and of the values of configured stores.
 */
const MAX_SECRET_FORMS = 12_000;

/** A value of an argument whose lineage kept an untrusted echo of it apart. */
export interface LineageHit {
  readonly value: string;
  /** `argument`, `page:<id>` (a trusted page), or `root` (below a configured root). */
  readonly from: string;
  readonly step: number;
}

/** What a lookup finds of one argument. */
export interface Lookup {
  /** The pages its values and long substrings came from. */
  readonly origins: ValueOrigin[];
  /** Untrusted pages that only echoed a value whose lineage is clean. */
  readonly echoes: readonly ValueOrigin[];
  readonly lineage: readonly LineageHit[];
  /** Its exact values (where lineage starts, if the syscall is allowed). */
  readonly values: ReadonlySet<string>;
}

export class ValueIndex {
  readonly #origins = new Map<string, ValueOrigin[]>();
  /** Untrusted sightings of values whose lineage is clean (lineage.ts). */
  readonly #echoes = new Map<string, ValueOrigin[]>();
  readonly #lineage = new LineageBook(homedir());
  /** Fingerprint -> the labels of the pages it was seen on, the last that added to them named. */
  readonly #fingerprints = new FingerprintTable();
  readonly #maxOriginsPerValue: number;
  readonly #budget: number;
  /** Join of the labels of pages too large for the remaining budget. */
  #unindexed = 0;
  readonly #secretForms: { form: string; caseless: boolean; origin: ValueOrigin }[] = [];
  /** Tainted pages' text, for commands too short to fingerprint. */
  readonly #shortCopies = new ShortCopies<ValueOrigin>();
  /** Whether any private page stated a code (codes.ts). */
  #codes = false;
  /** The secrets whose forms are indexed (a secret seen again adds nothing), and the forms. */
  readonly #secretValues = new Set<string>();
  readonly #formsSeen = new Set<string>();

  constructor(maxOriginsPerValue = 8, fingerprintBudget = DEFAULT_FINGERPRINT_BUDGET) {
    this.#maxOriginsPerValue = maxOriginsPerValue;
    this.#budget = fingerprintBudget;
  }

  get size(): number {
    return this.#origins.size + this.#fingerprints.size;
  }

  /** Labels every lookup carries because some page could not be fingerprinted. */
  get unindexedLabels(): number {
    return this.#unindexed;
  }

  /**
   * Index the values and fingerprints of a page's text. A value whose lineage is clean (see
   * lineage.ts) and that an untrusted page shows again is kept apart as an echo.
   */
  add(pageId: string, labels: number, text: string, step = 0): void {
    const origin: ValueOrigin = { pageId, labels };
    const tainted = (labels & INTEGRITY_TAINT) !== 0;
    // What reads as an injection is never a mere echo: its values taint as they are.
    const echoing = tainted && (labels & POISONED) === 0;
    // Made canonical once: the values and the fingerprints are both taken from it.
    const canonical = canonicalText(text);
    for (const value of pageValues(canonical)) {
      let first = this.#lineage.get(value);
      if (
        !first &&
        echoing &&
        value.startsWith('path:') &&
        this.#lineage.underRoot(value.slice(5))
      ) {
        // A path of the user's own workspace is structure: its lineage starts at the root.
        this.#lineage.note(value, 'root', step);
        first = this.#lineage.get(value);
      }
      if (first && echoing) {
        first.echoed = true;
        this.#remember(this.#echoes, value, origin);
        continue;
      }
      if (!first && !tainted && !this.#origins.has(value)) {
        this.#lineage.note(value, `page:${pageId}`, step);
      }
      this.#remember(this.#origins, value, origin);
    }
    const folded = foldText(canonical);
    if (tainted) this.#shortCopies.keep(folded, origin);
    // Short codes a private page states (codes.ts): never an echo, whatever came before.
    if ((labels & (PRIVATE | SECRET)) !== 0) {
      for (const code of codesIn(canonical)) {
        this.#remember(this.#origins, code, origin);
        this.#codes = true;
      }
    }
    // The page's text is fingerprinted whole: a copy of what it says around an echoed
    // value (a relative form of a path) is still found; an argument that is the value is
    // masked on the argument's side (lookup).
    const prints = winnowPicks(folded);
    // Over budget when the page's distinct fingerprints would be: counted only when its
    // picks (each distinct one at least once) could be.
    const room = this.#budget - this.#fingerprints.size;
    if (
      (prints.length > room && new Set(prints).size > room) ||
      !this.#fingerprints.addAll(prints, pageId, labels)
    ) {
      this.#unindexed |= labels;
    }
  }

  /** Values an allowed syscall carried in clean control arguments: their lineage starts. */
  noteClean(values: Iterable<string>, step: number): void {
    for (const value of values) {
      if (!this.#origins.has(value)) this.#lineage.note(value, 'argument', step);
    }
  }

  /** A directory the user configured (a server's root): structure, not content. */
  addStructure(dir: string): void {
    this.#lineage.addStructure(canonicalText(dir), true);
  }

  /** Record where a value was seen (bounded: beyond MAX_VALUES values, fail closed). */
  #remember(index: Map<string, ValueOrigin[]>, value: string, origin: ValueOrigin): void {
    let list = index.get(value);
    if (!list) {
      if (index.size >= MAX_VALUES) {
        this.#unindexed |= origin.labels; // full: fail closed, as for fingerprints
        return;
      }
      list = [];
      index.set(value, list);
    }
    // Keep the first pages a value appeared in; later repeats add no new provenance
    // unless they carry labels the kept ones do not.
    const { labels } = origin;
    if (
      list.length < this.#maxOriginsPerValue ||
      list.every((o) => (o.labels | labels) !== o.labels)
    ) {
      list.push(origin);
    }
  }

  /**
   * A secret the kernel has seen (captured from content, or known to a store): its raw
   * form and its common encodings (base64, base64url, hex, URL encoding) taint any
   * argument that echoes them.
   */
  addSecret(value: string, origin: ValueOrigin): void {
    if (this.#secretValues.has(value)) return;
    if (value.length < 6 || this.#secretForms.length >= MAX_SECRET_FORMS) {
      if (value.length >= 6) this.#unindexed |= origin.labels;
      return;
    }
    this.#secretValues.add(value);
    const bytes = Buffer.from(value, 'utf8');
    const forms = new Set([
      value,
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      encodeURIComponent(value),
    ]);
    for (const form of forms) {
      if (form.length >= 6 && !this.#formsSeen.has(form)) {
        this.#formsSeen.add(form);
        this.#secretForms.push({ form, caseless: false, origin });
      }
    }
    this.#secretForms.push({ form: bytes.toString('hex'), caseless: true, origin });
  }

  /**
   * The pages the values and long substrings of `text` appeared in; the echoes of its
   * values whose lineage is clean, apart; and its exact values. `strict`: for an action
   * an echo still steers (an exec, a delete), nothing is masked from the fingerprints.
   */
  lookup(text: string, strict = false, command = false): Lookup {
    const out: ValueOrigin[] = [];
    if (this.#secretForms.length > 0) {
      const lower = text.toLowerCase();
      for (const { form, caseless, origin } of this.#secretForms) {
        if ((caseless ? lower : text).includes(form)) out.push(origin);
      }
    }
    const canonical = canonicalText(text);
    const values = argumentValues(canonical);
    const echoes: ValueOrigin[] = [];
    const lineage: LineageHit[] = [];
    const clean: string[] = [];
    for (const value of values) {
      const origins = this.#origins.get(value);
      if (origins) out.push(...origins);
      const first = this.#lineage.get(value);
      if (!first) continue;
      clean.push(value);
      if (!first.echoed) continue;
      lineage.push({ value, from: first.from, step: first.step });
      echoes.push(...(this.#echoes.get(value) ?? []));
    }
    if (command) out.push(...this.#shortCopies.find(canonical));
    // Tokens of a code's shape are looked for only once a private page has stated a code.
    for (const code of this.#codes ? codeCandidates(canonical) : []) {
      const origins = this.#origins.get(code);
      if (origins) out.push(...origins);
    }
    // What the agent had cleanly, and the structure its paths sit in, is no copy of a page;
    // for a strict action (an exec, a delete) nothing is masked.
    const prints = strict
      ? winnow(foldText(canonical))
      : winnowOutside(canonical, this.#lineage.spans(canonical, clean));
    const seen = new Set<string>();
    for (const print of prints) {
      const origin = this.#fingerprints.get(print);
      if (origin && !seen.has(origin.pageId)) {
        seen.add(origin.pageId);
        out.push(origin);
      }
    }
    return { origins: out, echoes, lineage, values };
  }
}
