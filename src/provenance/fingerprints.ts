// Long shared substrings, found in constant time per argument however large the context:
// every page is normalised (case-folded, whitespace collapsed) and fingerprinted by
// winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003) over hashes of K-character
// windows; an argument is fingerprinted the same way and looked up. Any substring of at
// least K + W - 1 normalised characters that an argument shares with a page yields at
// least one common fingerprint, so a command, address or paragraph copied from a page is
// traced to it. Shorter coincidences can also match: the price is some false taint, never
// a missed copy of the guaranteed length.

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
  const out = new Set<number>();
  if (normalized.length < K) return out; // not one window: nothing to hash
  // Long texts in overlapping segments, so memory stays bounded: every window of W
  // K-grams lies wholly inside some segment, which keeps the guarantee.
  const overlap = K + W - 2;
  for (let start = 0; start === 0 || start + overlap < normalized.length; start += SEGMENT) {
    winnowSegment(normalized.slice(start, start + SEGMENT + overlap), out);
  }
  return out;
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

function winnowSegment(normalized: string, out: Set<number>): void {
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
    out.add(min);
    return;
  }
  // Rightmost minimum of every window of W hashes. The minimum's position is kept; the
  // window is scanned again only when that position leaves it (about every W/2 steps on
  // random hashes; at most W comparisons a step on any input), with branches a CPU
  // predicts, which a monotonic deque's pops are not. A window's minimum is usually the previous window's:
  // it is added once, when chosen.
  let min = 0;
  for (let i = 1; i < W; i++) if ((hashes[i] as number) <= (hashes[min] as number)) min = i;
  let chosen = min;
  out.add(hashes[min] as number);
  for (let i = W; i < n; i++) {
    if (min <= i - W) {
      min = i - W + 1;
      for (let j = min + 1; j <= i; j++)
        if ((hashes[j] as number) <= (hashes[min] as number)) min = j;
    } else if ((hashes[i] as number) <= (hashes[min] as number)) min = i;
    if (min !== chosen) {
      chosen = min;
      out.add(hashes[min] as number);
    }
  }
}

/**
 * Fingerprint -> what is known of it: an open-addressing table over the 32-bit
 * fingerprints. A Map keys half of them as heap numbers (those past the small-integer
 * range), and its lookups among the millions a long session indexes cost about four
 * times this table's (cache misses through its chains and boxed keys).
 */
export class FingerprintTable<V> {
  #keys = new Int32Array(1024);
  #used = new Uint8Array(1024);
  #values: (V | undefined)[] = new Array(1024);
  /** 32 minus log2 of the capacity: the multiplicative hash's top bits pick the slot. */
  #shift = 22;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: number): V | undefined {
    const at = this.#slot(key);
    return this.#used[at] === 1 ? this.#values[at] : undefined;
  }

  set(key: number, value: V): void {
    let at = this.#slot(key);
    if (this.#used[at] !== 1) {
      // At most half full: linear probes stay short.
      if (2 * (this.#size + 1) > this.#keys.length) {
        this.#grow();
        at = this.#slot(key);
      }
      this.#used[at] = 1;
      this.#keys[at] = key;
      this.#size += 1;
    }
    this.#values[at] = value;
  }

  /** Where `key` is, or the free slot it would take. */
  #slot(key: number): number {
    const mask = this.#keys.length - 1;
    let at = Math.imul(key, 0x9e3779b1) >>> this.#shift;
    while (this.#used[at] === 1 && this.#keys[at] !== key) at = (at + 1) & mask;
    return at;
  }

  #grow(): void {
    const keys = this.#keys;
    const used = this.#used;
    const values = this.#values;
    const capacity = 2 * keys.length;
    this.#keys = new Int32Array(capacity);
    this.#used = new Uint8Array(capacity);
    this.#values = new Array(capacity);
    this.#shift -= 1;
    for (let i = 0; i < keys.length; i++) {
      if (used[i] !== 1) continue;
      const at = this.#slot(keys[i] as number);
      this.#used[at] = 1;
      this.#keys[at] = keys[i] as number;
      this.#values[at] = values[i];
    }
  }
}
