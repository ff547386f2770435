// RFC 8785 (JCS) written straight into bytes: the same encoding as canonical.ts, produced as
// UTF-8 in a reused buffer, so that what is hashed and written (the flight log's lines) is
// never built as a string, flattened and converted to UTF-8 again on the way to SHA-256 and
// to write(2). Input distrusted as in canonical.ts: non-finite numbers, lone surrogates and
// non-plain values throw TypeError, never encoded; the property tests hold the two encoders
// to the same output.

import { hash } from 'node:crypto';

/** Buffers up to this size are kept between encodings; a larger one is dropped after use. */
const KEEP_BYTES = 1 << 20;

/** Bytes of an escape: `\"`, `\\`, and the control characters (JSON's minimal escaping). */
const ESCAPES: readonly (string | undefined)[] = (() => {
  const table: (string | undefined)[] = [];
  for (let c = 0; c < 0x20; c++) table[c] = `\\u${c.toString(16).padStart(4, '0')}`;
  table[0x08] = '\\b';
  table[0x09] = '\\t';
  table[0x0a] = '\\n';
  table[0x0c] = '\\f';
  table[0x0d] = '\\r';
  table[0x22] = '\\"';
  table[0x5c] = '\\\\';
  return table;
})();

/**
 * An output buffer with a fixed prefix (a hash's domain) that is kept in front of what is
 * written: `bytes.subarray(0, pos)` is then the whole input of a domain-separated hash.
 */
export class ByteWriter {
  bytes: Buffer;
  pos: number;
  readonly #prefix: Uint8Array;

  constructor(prefix: Uint8Array = new Uint8Array(0), size = 64 * 1024) {
    this.#prefix = prefix;
    this.bytes = Buffer.allocUnsafe(Math.max(size, prefix.length + 16));
    this.bytes.set(prefix, 0);
    this.pos = prefix.length;
  }

  get prefixLength(): number {
    return this.#prefix.length;
  }

  /** Start again after the prefix (and give back a buffer grown past KEEP_BYTES). */
  reset(): void {
    if (this.bytes.length > KEEP_BYTES) {
      this.bytes = Buffer.allocUnsafe(64 * 1024);
      this.bytes.set(this.#prefix, 0);
    }
    this.pos = this.#prefix.length;
  }

  /** Make room for `more` bytes after pos. */
  ensure(more: number): void {
    const need = this.pos + more;
    if (need <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < need) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    grown.set(this.bytes.subarray(0, this.pos), 0);
    this.bytes = grown;
  }

  byte(b: number): void {
    this.ensure(1);
    this.bytes[this.pos++] = b;
  }

  /** ASCII text known to need no escaping (digits, hex, literals). */
  ascii(text: string): void {
    this.ensure(text.length);
    const bytes = this.bytes;
    let p = this.pos;
    for (let i = 0; i < text.length; i++) bytes[p++] = text.charCodeAt(i);
    this.pos = p;
  }
}

/** What a string needs the loop below for: an escape, or a surrogate (lone ones throw). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters must be escaped.
const NOT_VERBATIM = /["\\\u0000-\u001f\ud800-\udfff]/;
/**
 * From this length, a string with none of those is copied by Buffer.write: a scan and a
 * native copy beat the loop. (Copying the runs between escapes natively does not: a call
 * per run costs more than the loop, on prose with newlines and more on code.)
 */
const NATIVE_FROM = 256;

/** Append the JCS form of a string: JSON's minimal escaping, as UTF-8. */
export function writeString(out: ByteWriter, text: string): void {
  const n = text.length;
  if (n >= NATIVE_FROM && !NOT_VERBATIM.test(text)) {
    out.ensure(n * 3 + 2);
    const bytes = out.bytes;
    bytes[out.pos] = 0x22;
    const end = out.pos + 1 + bytes.write(text, out.pos + 1, 'utf8');
    bytes[end] = 0x22;
    out.pos = end + 1;
    return;
  }
  // Each UTF-16 unit is at most three bytes of UTF-8; an escape (up to six) makes more room.
  out.ensure(n * 3 + 2);
  let bytes = out.bytes;
  let p = out.pos;
  bytes[p++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        bytes[p++] = c;
        continue;
      }
      const escaped = ESCAPES[c] as string;
      out.pos = p;
      out.ensure(escaped.length + (n - i) * 3 + 1);
      bytes = out.bytes;
      for (let k = 0; k < escaped.length; k++) bytes[p++] = escaped.charCodeAt(k);
    } else if (c < 0x800) {
      bytes[p++] = 0xc0 | (c >> 6);
      bytes[p++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      bytes[p++] = 0xe0 | (c >> 12);
      bytes[p++] = 0x80 | ((c >> 6) & 0x3f);
      bytes[p++] = 0x80 | (c & 0x3f);
    } else {
      const d = c <= 0xdbff && i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) throw new TypeError('JCS: string holds a lone surrogate');
      const point = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
      bytes[p++] = 0xf0 | (point >> 18);
      bytes[p++] = 0x80 | ((point >> 12) & 0x3f);
      bytes[p++] = 0x80 | ((point >> 6) & 0x3f);
      bytes[p++] = 0x80 | (point & 0x3f);
      i += 1;
    }
  }
  bytes[p++] = 0x22;
  out.pos = p;
}

/** Append a number in ECMAScript form (what JSON.stringify gives a finite number). */
function writeNumber(out: ByteWriter, value: number): void {
  if (!Number.isFinite(value)) throw new TypeError('JCS: number is not finite');
  if (value >= 0 && value <= 0x7fffffff && value === (value | 0)) {
    // Small non-negative integers (steps, counts, sizes): digits without a string.
    out.ensure(10);
    const bytes = out.bytes;
    let p = out.pos;
    if (value === 0) bytes[p++] = 0x30;
    else {
      let digits = 0;
      for (let v = value; v > 0; v = (v / 10) | 0) digits += 1;
      p += digits;
      for (let v = value, q = p - 1; v > 0; v = (v / 10) | 0) bytes[q--] = 0x30 + (v % 10);
    }
    out.pos = p;
    return;
  }
  out.ascii(JSON.stringify(value));
}

/** Append the JCS form of any JSON value (see canonicalize in canonical.ts). */
export function writeCanonical(out: ByteWriter, value: unknown): void {
  // Tests of `typeof x === '...'` compile to type checks; a switch on `typeof x` calls a
  // builtin for the string first.
  if (typeof value === 'string') writeString(out, value);
  else if (typeof value === 'object') {
    if (value === null) out.ascii('null');
    else if (Array.isArray(value)) writeArray(out, value);
    else writeObject(out, value);
  } else if (typeof value === 'number') writeNumber(out, value);
  else if (typeof value === 'boolean') out.ascii(value ? 'true' : 'false');
  else throw new TypeError(`JCS: cannot encode a value of type ${typeof value}`);
}

function writeArray(out: ByteWriter, list: readonly unknown[]): void {
  out.byte(0x5b);
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out.byte(0x2c);
    writeCanonical(out, list[i]);
  }
  out.byte(0x5d);
}

function writeObject(out: ByteWriter, value: object): void {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError('JCS: only plain objects and arrays can be encoded');
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort();
      break;
    }
  }
  out.byte(0x7b);
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = record[key];
    if (item === undefined) continue;
    if (!first) out.byte(0x2c);
    first = false;
    writeString(out, key);
    out.byte(0x3a);
    writeCanonical(out, item);
  }
  out.byte(0x7d);
}

const digestWriter = new ByteWriter();

/**
 * SHA-256 (hex) of a value's JCS form, behind `domain` and a NUL when one is given: the
 * same digest as `domainHash(domain, canonicalize(value))` (or `sha256Hex(canonicalize(value))`),
 * from bytes written once into a reused buffer, never built as a string. Throws TypeError
 * as canonicalize does.
 */
export function canonicalSha256(value: unknown, domain?: string): string {
  const out = digestWriter;
  out.reset();
  if (domain !== undefined) {
    out.ensure(Buffer.byteLength(domain) + 1);
    out.pos += out.bytes.write(domain, out.pos, 'utf8');
    out.byte(0);
  }
  writeCanonical(out, value);
  return hash('sha256', out.bytes.subarray(0, out.pos), 'hex');
}
