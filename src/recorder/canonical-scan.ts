// Whether bytes are exactly the RFC 8785 (JCS) form of some JSON value, decided in one pass
// over the bytes without building the value: no whitespace, object keys strictly
// increasing in UTF-16 code unit order, strings escaped exactly as JSON.stringify escapes
// them (\" \\ \b \f \n \r \t, \u00xx for the other controls, nothing else), numbers in
// ECMAScript's shortest form, and valid UTF-8. The verifier uses it to accept a canonical
// line without re-encoding its event; it must never accept bytes that canonicalize()
// would not produce (test/recorder/canonical-scan.test.ts checks it against it).
// Input distrusted: every byte.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const OBJECT = 1;
const ARRAY = 2;

/** Integers of up to this many characters are exact doubles that print as themselves. */
const PLAIN_INTEGER_CHARS = 15;
/** Longer than anything JavaScript prints for a number (-1.2345678901234567e-308 is 24). */
const LONGEST_NUMBER_CHARS = 32;

const LITERALS: readonly Uint8Array[] = ['true', 'false', 'null'].map((word) =>
  Buffer.from(word, 'latin1'),
);

const keyDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Where the scan found the top-level member it was asked to locate. */
export interface CanonicalScan {
  /** Offset of the member's key (its opening quote), or -1 when there is no such member. */
  readonly memberStart: number;
  /** Offset just past the member's value, or -1. */
  readonly memberEnd: number;
}

/**
 * Deeper nesting is left to the exact path (the verifier re-encodes such a line, as it
 * did before this scanner): canonicalize() recurses, so only up to its stack limit does a
 * deeply nested value have a canonical form at all.
 */
const MAX_DEPTH = 1000;

// The scan's state, reused from one scan to the next (a scan never re-enters itself): the
// containers open at each depth, outermost first, and for each the span of its last key.
const kinds = new Uint8Array(MAX_DEPTH);
const keyStarts = new Int32Array(MAX_DEPTH);
const keyEnds = new Int32Array(MAX_DEPTH);
/** 1 when that key is ASCII with no escape, so that its bytes compare as its code units. */
const keyPlain = new Uint8Array(MAX_DEPTH);
/** Whether the string scanned last was ASCII with no escape. */
let stringPlain = false;
let memberStart = -1;
let memberEnd = -1;
/** Bytes of the ASCII characters a string holds as they are (not ", \\ or controls). */
const AS_IS = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) if (c !== QUOTE && c !== BACKSLASH) AS_IS[c] = 1;

/**
 * Scan bytes that must be the JCS form of a JSON value; null when they are not. When the
 * value is an object, the span of its top-level member named `member` (given as the
 * member's key bytes, without quotes, plain ASCII) is reported. One pass, no recursion:
 * open containers are kept on an explicit stack.
 */
export function scanCanonical(b: Uint8Array, member?: Uint8Array): CanonicalScan | null {
  const n = b.length;
  let i = 0;
  let depth = 0;
  memberStart = -1;
  memberEnd = -1;
  for (;;) {
    if (i >= n) return null;
    const c = b[i] as number;
    if (c === QUOTE) i = stringEnd(b, i + 1, n);
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const kind = c === OPEN_OBJECT ? OBJECT : ARRAY;
      if (i + 1 < n && b[i + 1] === (kind === OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) i += 2;
      else {
        if (depth === MAX_DEPTH) return null;
        kinds[depth] = kind;
        keyStarts[depth] = -1;
        depth += 1;
        i = kind === OBJECT ? keyEnd(b, i + 1, n, depth - 1, member) : i + 1;
        if (i < 0) return null;
        continue; // to the container's first value
      }
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) i = numberEnd(b, i, n);
    else i = literalEnd(b, i, n);
    if (i < 0) return null;
    // After a whole value: close what ends here, then go on to the next value.
    for (;;) {
      if (depth === 0) return i === n ? { memberStart, memberEnd } : null;
      if (depth === 1 && memberStart >= 0 && memberEnd < 0) memberEnd = i;
      if (i >= n) return null;
      const next = b[i] as number;
      const kind = kinds[depth - 1];
      if (next === COMMA) {
        i = kind === OBJECT ? keyEnd(b, i + 1, n, depth - 1, member) : i + 1;
        if (i < 0) return null;
        break;
      }
      if (next !== (kind === OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) return null;
      depth -= 1;
      i += 1;
    }
  }
}

/** Whether the bytes are the JCS form of a JSON value. */
export function isCanonicalJson(bytes: Uint8Array): boolean {
  return scanCanonical(bytes) !== null;
}

function literalEnd(b: Uint8Array, i: number, n: number): number {
  for (const literal of LITERALS) {
    if (literal[0] === b[i] && matches(b, i, n, literal)) return i + literal.length;
  }
  return -1;
}

function matches(b: Uint8Array, at: number, n: number, word: Uint8Array): boolean {
  if (at + word.length > n) return false;
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return false;
  return true;
}

/**
 * A key and its colon at `i` in the object open at `level`, strictly after the object's
 * previous key: the offset past the colon, or -1. Notes where the sought member starts.
 */
function keyEnd(
  b: Uint8Array,
  i: number,
  n: number,
  level: number,
  member: Uint8Array | undefined,
): number {
  if (i >= n || b[i] !== QUOTE) return -1;
  const end = stringEnd(b, i + 1, n);
  if (end < 0 || end >= n || b[end] !== COLON) return -1;
  const plain = stringPlain ? 1 : 0;
  const previous = keyStarts[level] as number;
  if (
    previous >= 0 &&
    !keyBefore(b, previous, keyEnds[level] as number, keyPlain[level] === 1, i, end, plain === 1)
  ) {
    return -1;
  }
  keyStarts[level] = i;
  keyEnds[level] = end;
  keyPlain[level] = plain;
  if (
    level === 0 &&
    member &&
    plain === 1 &&
    end - i - 2 === member.length &&
    matches(b, i + 1, n, member)
  ) {
    memberStart = i;
  }
  return end + 1;
}

/** Whether key a sorts strictly before key b (spans include their quotes). */
function keyBefore(
  b: Uint8Array,
  aStart: number,
  aEnd: number,
  aPlain: boolean,
  bStart: number,
  bEnd: number,
  bPlain: boolean,
): boolean {
  if (aPlain && bPlain) {
    // ASCII without escapes: byte order is UTF-16 code unit order.
    const aLength = aEnd - aStart;
    const bLength = bEnd - bStart;
    const common = Math.min(aLength, bLength) - 1;
    for (let k = 1; k < common; k++) {
      const x = b[aStart + k] as number;
      const y = b[bStart + k] as number;
      if (x !== y) return x < y;
    }
    return aLength < bLength;
  }
  // Escapes or non-ASCII: compare the decoded keys as JavaScript compares strings.
  const a = JSON.parse(keyDecoder.decode(b.subarray(aStart, aEnd))) as string;
  const c = JSON.parse(keyDecoder.decode(b.subarray(bStart, bEnd))) as string;
  return a < c;
}

/**
 * The rest of a string whose opening quote is before `i`: the offset past its closing
 * quote, or -1. Sets stringPlain to whether it held only ASCII and no escape.
 */
function stringEnd(b: Uint8Array, i: number, n: number): number {
  let plain = true;
  for (;;) {
    while (i < n && AS_IS[b[i] as number] === 1) i += 1;
    if (i >= n) return -1;
    const c = b[i] as number;
    if (c === QUOTE) {
      stringPlain = plain;
      return i + 1;
    }
    plain = false;
    if (c === BACKSLASH) i = escapeEnd(b, i, n);
    else if (c >= 0x80) i = utf8End(b, i, n);
    else return -1; // a raw control character
    if (i < 0) return -1;
  }
}

/** A number at `i` in ECMAScript's shortest form: the offset past it, or -1. */
function numberEnd(b: Uint8Array, i: number, n: number): number {
  const start = i;
  if (b[i] === MINUS) i += 1;
  if (i < n && b[i] === ZERO) i += 1;
  else if (i < n && (b[i] as number) > ZERO && (b[i] as number) <= NINE) i = digitsEnd(b, i, n);
  else return -1;
  let integer = true;
  if (i < n && b[i] === DOT) {
    integer = false;
    const end = digitsEnd(b, i + 1, n);
    if (end === i + 1) return -1;
    i = end;
  }
  if (i < n && (b[i] === 0x65 || b[i] === 0x45)) {
    integer = false;
    i += 1;
    if (i < n && (b[i] === 0x2b || b[i] === MINUS)) i += 1;
    const end = digitsEnd(b, i, n);
    if (end === i) return -1;
    i = end;
  }
  const length = i - start;
  if (integer && length <= PLAIN_INTEGER_CHARS && !(b[start] === MINUS && b[start + 1] === ZERO))
    return i;
  // Anything else is canonical only if it is what JavaScript prints for its value (this
  // rejects -0, 1.0, 1e2, 1E+21, digits past the shortest round trip, and overflow).
  if (length > LONGEST_NUMBER_CHARS) return -1;
  const text = Buffer.from(b.buffer, b.byteOffset + start, length).toString('latin1');
  return String(Number(text)) === text ? i : -1;
}

function digitsEnd(b: Uint8Array, i: number, n: number): number {
  while (i < n && (b[i] as number) >= ZERO && (b[i] as number) <= NINE) i += 1;
  return i;
}

function isLowerHexDigit(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x61 && c <= 0x66);
}

/**
 * The offset past the escape at `i`, or -1 if JSON.stringify would not have written it:
 * the two-character escapes JSON has for " \ and five controls, and \u00xx (lowercase
 * hex) for the other controls only.
 */
function escapeEnd(b: Uint8Array, i: number, n: number): number {
  if (i + 1 >= n) return -1;
  switch (b[i + 1]) {
    case QUOTE:
    case BACKSLASH:
    case 0x62: // b
    case 0x66: // f
    case 0x6e: // n
    case 0x72: // r
    case 0x74: // t
      return i + 2;
    case 0x75: {
      // u
      if (i + 5 >= n || b[i + 2] !== ZERO || b[i + 3] !== ZERO) return -1;
      const high = b[i + 4] as number;
      const low = b[i + 5] as number;
      if ((high !== ZERO && high !== ZERO + 1) || !isLowerHexDigit(low)) return -1;
      const code = (high - ZERO) * 16 + (low <= NINE ? low - ZERO : low - 0x61 + 10);
      // \b \t \n \f \r have short forms, which JSON.stringify uses.
      if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d)
        return -1;
      return i + 6;
    }
    default:
      return -1;
  }
}

function isContinuation(b: Uint8Array, i: number, n: number): boolean {
  return i < n && ((b[i] as number) & 0xc0) === 0x80;
}

/**
 * The offset past the UTF-8 sequence whose lead byte is at `i`, or -1 if it is not well
 * formed (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
 */
function utf8End(b: Uint8Array, i: number, n: number): number {
  const lead = b[i] as number;
  if (lead < 0xc2 || lead > 0xf4 || i + 1 >= n) return -1;
  const second = b[i + 1] as number;
  if (lead < 0xe0) return isContinuation(b, i + 1, n) ? i + 2 : -1;
  if (lead < 0xf0) {
    const min = lead === 0xe0 ? 0xa0 : 0x80;
    const max = lead === 0xed ? 0x9f : 0xbf;
    if (second < min || second > max || !isContinuation(b, i + 2, n)) return -1;
    return i + 3;
  }
  const min = lead === 0xf0 ? 0x90 : 0x80;
  const max = lead === 0xf4 ? 0x8f : 0xbf;
  if (second < min || second > max) return -1;
  return isContinuation(b, i + 2, n) && isContinuation(b, i + 3, n) ? i + 4 : -1;
}
