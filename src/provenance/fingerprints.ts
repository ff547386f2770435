// Long shared substrings, found in constant time per argument however large the context:
// every page is normalised (case-folded, whitespace collapsed) and fingerprinted by
// winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003) over hashes of K-character
// windows; an argument is fingerprinted the same way and looked up. Any substring of at
// least K + W - 1 normalised characters that an argument shares with a page yields at
// least one common fingerprint, so a command, address or paragraph copied from a page is
// traced to it. Shorter coincidences can also match: the price is some false taint, never
// a missed copy of the guaranteed length.

import { LABELS } from '../labels/labels.js';

export const K = 16;
export const W = 16;
/** The shortest shared substring that is guaranteed to be found. */
export const GUARANTEED_MATCH = K + W - 1;

export function normalizeText(text: string): string {
  return foldText(canonicalText(text));
}

/**
 * A run of whitespace other than one plain space: what foldText rewrites. Replacing every
 * run (`/\s+/g`) gives the same text, but rewrites each of the many single spaces of prose.
 */
const SPACE_RUN = /\s{2,}|[^\S ]/g;

/** normalizeText for text already made canonical (canonicalText): case and spaces folded. */
export function foldText(canonical: string): string {
  return canonical.toLowerCase().replace(SPACE_RUN, ' ').trim();
}

/** Characters that render as nothing (zero-width, soft hyphen, bidi marks, tags, BOM). */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u202a-\u202e\u2066-\u2069]/gu;
/** Longer texts are not NFKC-folded (one character can expand eighteenfold): bounded work. */
const MAX_FOLDED = 1 << 20;
/** Anything outside printable ASCII: only such text needs the (slower) full treatment. */
const NON_ASCII = /[^\x20-\x7e\t\n\r]/;

/**
 * Text as a reader sees it: compatibility forms folded (fullwidth `ｅｖｉｌ` is `evil`, `①`
 * is `1`) and invisible characters dropped, so that a copy dressed up that way is still a
 * copy. Pages and arguments both go through it.
 */
export function canonicalText(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  const visible = text.replace(INVISIBLE, '');
  return visible.length > MAX_FOLDED ? visible : visible.normalize('NFKC').replace(INVISIBLE, '');
}

const SEGMENT = 1 << 20;

/** Winnowed fingerprints of normalised text (empty when shorter than K). */
export function winnow(normalized: string): Set<number> {
  return new Set(winnowPicks(normalized));
}

/** The picks of winnowPicks, kept between calls (as the hash scratch below). */
let pickScratch = new Int32Array(1024);
let pickCount = 0;

function pick(hash: number): void {
  if (pickCount === pickScratch.length) {
    const grown = new Int32Array(2 * pickScratch.length);
    grown.set(pickScratch);
    pickScratch = grown;
  }
  pickScratch[pickCount++] = hash;
}

/**
 * winnow's fingerprints as an array, in the order they were picked: the same values, each
 * at least once (a value picked at two places of the text comes twice). A view of a buffer
 * the next call reuses: read it before fingerprinting again.
 */
export function winnowPicks(normalized: string): Int32Array {
  pickCount = 0;
  if (normalized.length >= K) {
    // Long texts in overlapping segments, so memory stays bounded: every window of W
    // K-grams lies wholly inside some segment, which keeps the guarantee.
    const overlap = K + W - 2;
    for (let start = 0; start === 0 || start + overlap < normalized.length; start += SEGMENT) {
      winnowSegment(normalized.slice(start, start + SEGMENT + overlap));
    }
  }
  if (pickScratch.length > KEEP_ENTRIES) {
    const picks = pickScratch.slice(0, pickCount);
    pickScratch = new Int32Array(1024);
    return picks;
  }
  return pickScratch.subarray(0, pickCount);
}

/**
 * A scratch array for a segment's hashes, kept between calls up to this many entries
 * (1 MiB): a fresh typed array per page costs more than the hashing, in allocation and in
 * the page faults of first writing it.
 */
const KEEP_ENTRIES = 1 << 18;
let hashScratch = new Int32Array(4096);

function scratch(kept: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (kept.length >= n) return kept;
  return new Int32Array(Math.max(n, Math.min(2 * kept.length, KEEP_ENTRIES)));
}

let unitScratch = Buffer.allocUnsafe(8192);

/** The UTF-16 units of `text` as an array (a native copy: reads of it beat charCodeAt). */
function unitsOf(text: string): Uint16Array {
  const bytes = 2 * text.length;
  let buffer = unitScratch;
  if (buffer.length < bytes) {
    buffer = Buffer.allocUnsafe(Math.max(bytes, Math.min(2 * buffer.length, 4 * KEEP_ENTRIES)));
    if (buffer.length <= 4 * KEEP_ENTRIES) unitScratch = buffer;
  }
  buffer.write(text, 0, bytes, 'utf16le');
  return new Uint16Array(buffer.buffer, buffer.byteOffset, text.length);
}

function winnowSegment(normalized: string): void {
  const n = normalized.length - K + 1;
  if (n <= 0) return;
  const hashes = scratch(hashScratch, n);
  if (hashes.length <= KEEP_ENTRIES) hashScratch = hashes;
  const units = unitsOf(normalized);
  // Polynomial rolling hash mod 2^32 over UTF-16 code units.
  const BASE = 0x01000193;
  let power = 1;
  for (let i = 0; i < K - 1; i++) power = Math.imul(power, BASE);
  let h = 0;
  for (let i = 0; i < K; i++) h = (Math.imul(h, BASE) + (units[i] as number)) | 0;
  hashes[0] = h;
  for (let i = 1; i < n; i++) {
    h = (h - Math.imul(units[i - 1] as number, power)) | 0;
    h = (Math.imul(h, BASE) + (units[i + K - 1] as number)) | 0;
    hashes[i] = h;
  }
  if (n <= W) {
    let min = hashes[0] as number;
    for (let i = 1; i < n; i++) min = Math.min(min, hashes[i] as number);
    pick(min);
    return;
  }
  // Rightmost minimum of every window of W hashes. The minimum's position is kept; the
  // window is scanned again only when that position leaves it (about every W/2 steps on
  // random hashes; at most W comparisons a step on any input), with branches a CPU
  // predicts, which a monotonic deque's pops are not. A window's minimum is usually the
  // previous window's: it is picked once, when chosen.
  let min = 0;
  for (let i = 1; i < W; i++) if ((hashes[i] as number) <= (hashes[min] as number)) min = i;
  let chosen = min;
  pick(hashes[min] as number);
  for (let i = W; i < n; i++) {
    if (min <= i - W) {
      min = i - W + 1;
      for (let j = min + 1; j <= i; j++)
        if ((hashes[j] as number) <= (hashes[min] as number)) min = j;
    } else if ((hashes[i] as number) <= (hashes[min] as number)) min = i;
    if (min !== chosen) {
      chosen = min;
      pick(hashes[min] as number);
    }
  }
}

/** Where a fingerprint was seen: the labels of every page it was on, the last one named. */
export interface FingerprintOrigin {
  readonly pageId: string;
  readonly labels: number;
}

/** Bits of a slot's second integer that hold the labels; the page's number is above them. */
const LABEL_BITS = LABELS.length;
const LABEL_MASK = (1 << LABEL_BITS) - 1;
/** Pages a table can name (page numbers stay clear of the sign bit). */
const MAX_TABLE_PAGES = 2 ** (31 - LABEL_BITS) - 1;

/**
 * Fingerprint -> the labels of the pages it was seen on, and the last page that added to
 * them: an open-addressing table over the 32-bit fingerprints, each slot two integers side
 * by side (the key; the page's number and the labels). A Map keys half of them as heap
 * numbers (those past the small-integer range); a slot split over arrays, with an object
 * for its value, costs up to four cache misses a lookup among the millions a long session
 * indexes, where this costs one.
 */
export class FingerprintTable {
  /** Slot i: [2i] the key, [2i+1] (1 + its page's index) << LABEL_BITS | labels (0: free). */
  #slots = new Int32Array(2 * 1024);
  #capacity = 1024;
  /** 32 minus log2 of the capacity: the multiplicative hash's top bits pick the slot. */
  #shift = 22;
  #size = 0;
  /** The pages slots name, by index (each page once, when it first fills or joins a slot). */
  readonly #pages: string[] = [];

  get size(): number {
    return this.#size;
  }

  get(key: number): FingerprintOrigin | undefined {
    const value = this.#slots[this.#slot(key) + 1] as number;
    if (value === 0) return undefined;
    return {
      pageId: this.#pages[(value >>> LABEL_BITS) - 1] as string,
      labels: value & LABEL_MASK,
    };
  }

  /**
   * Page `pageId` with `labels` shows these fingerprints: each new one is the page's; one
   * known already takes the page's labels too, and names it, if they add any. False, and
   * nothing added, when the table can name no more pages (the caller fails closed).
   */
  addAll(keys: ArrayLike<number>, pageId: string, labels: number): boolean {
    if (labels >>> LABEL_BITS !== 0) throw new RangeError(`not a label mask: ${labels}`);
    let page = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as number;
      let at = this.#slot(key);
      const value = this.#slots[at + 1] as number;
      const kept = value & LABEL_MASK;
      if (value !== 0 && (kept | labels) === kept) continue;
      if (page === 0) {
        if (this.#pages.length >= MAX_TABLE_PAGES) return false;
        page = this.#pages.push(pageId);
      }
      if (value === 0) {
        // At most half full: linear probes stay short.
        if (2 * (this.#size + 1) > this.#capacity) {
          this.#grow();
          at = this.#slot(key);
        }
        this.#slots[at] = key;
        this.#size += 1;
      }
      this.#slots[at + 1] = (page << LABEL_BITS) | kept | labels;
    }
    return true;
  }

  /** Where `key` is, or the free slot it would take: the index of its first integer. */
  #slot(key: number): number {
    const slots = this.#slots;
    const mask = this.#capacity - 1;
    let at = Math.imul(key, 0x9e3779b1) >>> this.#shift;
    while (slots[2 * at + 1] !== 0 && slots[2 * at] !== key) at = (at + 1) & mask;
    return 2 * at;
  }

  #grow(): void {
    const old = this.#slots;
    this.#capacity *= 2;
    this.#slots = new Int32Array(2 * this.#capacity);
    this.#shift -= 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      const at = this.#slot(old[i] as number);
      this.#slots[at] = old[i] as number;
      this.#slots[at + 1] = old[i + 1] as number;
    }
  }
}
