// Content as the kernel reads it: the text the scanners see (every string, member name and
// number of a value, with base64 blobs decoded) and the hash the log keeps. A ContentReader
// lives for one syscall and computes each once, however many stages ask; an answer from a
// server is walked once in all, by walkAnswer, which captures its secrets and collects its
// text in the same pass.
// Input distrusted: every value passed in (bounded: beyond MAX_SCANNED_STRINGS strings a
// value has no text, and the syscall that carries it is refused, never scanned in part).

import { canonicalSha256 } from '../crypto/canonical-bytes.js';
import { sha256Hex } from '../crypto/index.js';
import { type DecodedBlob, decodedBlob, stringsOf } from '../provenance/values.js';

/** Text longer than this is refused, never scanned in part. */
export const MAX_SCANNED_CONTENT = 32 * 1024 * 1024;
/** Structured content with more strings than this is refused, never scanned in part. */
export const MAX_SCANNED_STRINGS = 100_000;

/** All text of a value, or null when it has more parts than the scanners may skip. */
export function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (content instanceof Uint8Array) return Buffer.from(content).toString('utf8');
  const strings = stringsOf(content, MAX_SCANNED_STRINGS);
  return strings === null ? null : strings.join('\n');
}

/** The hash the log keeps of a value: of its bytes, or of its canonical (JCS) form. */
export function hashOf(content: unknown): string {
  if (typeof content === 'string') return sha256Hex(Buffer.from(content, 'utf8'));
  if (content instanceof Uint8Array) return sha256Hex(content);
  return canonicalSha256(content);
}

/**
 * The text and hash of the values one syscall carries, each computed once (by identity:
 * the request is not changed while it is mediated). Never kept past the syscall, so a
 * caller that changes an object afterwards cannot be answered from memory.
 */
export class ContentReader {
  readonly #texts = new Map<unknown, string | null>();
  readonly #hashes = new Map<unknown, string>();

  /** The text of a value (see textOf). */
  text(value: unknown): string | null {
    if (typeof value === 'string') return value;
    let text = this.#texts.get(value);
    if (text === undefined) {
      text = textOf(value);
      this.#texts.set(value, text);
    }
    return text;
  }

  /**
   * The SHA-256 of a value's JCS form; throws TypeError (as canonicalize does) for data that
   * is not JSON, which is how a request's JSON members are checked.
   */
  canonicalHash(value: unknown): string {
    let digest = this.#hashes.get(value);
    if (digest === undefined) {
      digest = canonicalSha256(value);
      this.#hashes.set(value, digest);
    }
    return digest;
  }

  /** The hash the log keeps of a value (see hashOf). */
  hash(value: unknown): string {
    if (typeof value === 'string' || value instanceof Uint8Array) return hashOf(value);
    return this.canonicalHash(value);
  }

  /** Tell the reader a value's text, already collected (by walkAnswer). */
  know(value: unknown, text: string | null): void {
    if (typeof value === 'object' && value !== null) this.#texts.set(value, text);
  }
}

/**
 * A copy of a JSON-like value with every string passed through `map`, with the member
 * name it is the value of (shared when unchanged).
 */
export function mapStrings(
  value: unknown,
  map: (text: string, key: string | undefined) => string,
  key?: string,
): unknown {
  return walkAnswer(value, map, key, false).value;
}

/** A member defined, not assigned: a `__proto__` member stays a member. */
function define(out: Record<string, unknown>, member: string, value: unknown): void {
  Object.defineProperty(out, member, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * What stringsOf() would collect from the mapped value, gathered while mapping: the same
 * strings in the same order, and null past the same bounds (it counts, as stringsOf's
 * stack does, the values still waiting to be read; a blob's decoded text is counted when
 * its member is reached, by the blob as received).
 */
class Collector {
  readonly out: string[] | null;
  #waiting = 1;
  #overflow = false;

  constructor(collect: boolean) {
    this.out = collect ? [] : null;
  }

  get strings(): string[] | null {
    return this.#overflow ? null : this.out;
  }

  /** One waiting value is read: `text` (if any) joins the strings, `more` start waiting. */
  read(text: string | undefined, more = 0): void {
    if (this.out === null || this.#overflow) return;
    this.#waiting += more - 1;
    if (text !== undefined) this.out.push(text);
    if (this.out.length > MAX_SCANNED_STRINGS || this.#waiting > 4 * MAX_SCANNED_STRINGS) {
      this.#overflow = true;
      this.out.length = 0;
    }
  }
}

function blobOf(key: string, child: unknown): DecodedBlob | null {
  return key === 'blob' && typeof child === 'string' ? decodedBlob(child) : null;
}

/**
 * How a walk rewrites a string: `key` is the member that holds it (undefined in an array,
 * and for a member name itself), `owner` the member that holds the object it is in.
 */
export type StringMap = (text: string, key: string | undefined, owner?: string) => string;

/**
 * One walk of an answer headed to the model: every string, member names included, passed
 * through `map` (secret capture, in document order), and the text of the mapped value
 * collected on the way (as textOf() would read it, or null past its bounds). With
 * `collect` false, only the map.
 */
export function walkAnswer(
  value: unknown,
  map: StringMap,
  key?: string,
  collect = true,
): { value: unknown; text: string | null } {
  // Bytes are text to the scanners (textOf), and are never rewritten.
  if (value instanceof Uint8Array) return { value, text: collect ? textOf(value) : null };
  const collector = new Collector(collect);
  const mapped = walk(value, map, key, undefined, collector);
  const strings = collector.strings;
  return { value: mapped, text: strings === null ? null : strings.join('\n') };
}

function walk(
  value: unknown,
  map: StringMap,
  key: string | undefined,
  owner: string | undefined,
  collector: Collector,
): unknown {
  if (typeof value === 'string') {
    const mapped = map(value, key, owner);
    collector.read(mapped);
    return mapped;
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    collector.read(String(value));
    return value;
  }
  if (Array.isArray(value)) {
    collector.read(undefined, value.length);
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const mapped = walk(item, map, undefined, key, collector);
      if (mapped !== item && out === null) out = value.slice(0, i);
      if (out !== null) out.push(mapped);
    }
    return out ?? value;
  }
  if (typeof value !== 'object' || value === null) {
    collector.read(undefined);
    return value;
  }
  const entries = Object.entries(value);
  const collecting = collector.out !== null;
  let blobs = 0;
  if (collecting) for (const [member, child] of entries) if (blobOf(member, child)) blobs += 1;
  collector.read(undefined, 2 * entries.length + blobs);
  // Bytes inside a value are read as stringsOf reads them (indexes and numbers), as they are.
  if (value instanceof Uint8Array) {
    for (const [member, child] of entries) {
      collector.read(member);
      walk(child, (text) => text, member, key, collector);
    }
    return value;
  }
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [member, child] of entries) {
    // A member name is text the model reads too: a credential used as a key is replaced.
    const name = map(member, undefined, key);
    collector.read(name);
    const mapped = walk(child, map, member, key, collector);
    const decoded = collecting ? blobOf(member, mapped) : null;
    if (decoded !== null) collector.read(decoded.text);
    if (mapped !== child || name !== member) changed = true;
    define(out, name, mapped);
  }
  return changed ? out : value;
}
