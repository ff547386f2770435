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

/** normalizeText for text already made canonical (canonicalText): case and spaces folded. */
export function foldText(canonical: string): string {
  return canonical.toLowerCase().replace(/\s+/g, ' ').trim();
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

function winnowSegment(normalized: string, out: Set<number>): void {
  const n = normalized.length - K + 1;
  if (n <= 0) return;
  // Polynomial rolling hash mod 2^32 over UTF-16 code units.
  const BASE = 0x01000193;
  let power = 1;
  for (let i = 0; i < K - 1; i++) power = Math.imul(power, BASE);
  const hashes = new Int32Array(n);
  let h = 0;
  for (let i = 0; i < K; i++) h = (Math.imul(h, BASE) + normalized.charCodeAt(i)) | 0;
  hashes[0] = h;
  for (let i = 1; i < n; i++) {
    h = (h - Math.imul(normalized.charCodeAt(i - 1), power)) | 0;
    h = (Math.imul(h, BASE) + normalized.charCodeAt(i + K - 1)) | 0;
    hashes[i] = h;
  }
  if (n <= W) {
    let min = hashes[0] as number;
    for (let i = 1; i < n; i++) min = Math.min(min, hashes[i] as number);
    out.add(min);
    return;
  }
  // Rightmost minimum of every window of W hashes (a monotonic deque keeps this linear).
  const deque = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    const value = hashes[i] as number;
    while (tail > head && (hashes[deque[tail - 1] as number] as number) >= value) tail -= 1;
    deque[tail++] = i;
    if ((deque[head] as number) <= i - W) head += 1;
    if (i >= W - 1) out.add(hashes[deque[head] as number] as number);
  }
}
