// One encoder for both sides of the chain: the writer uses it to produce a line and its
// hash, the verifier uses it to recompute both from a parsed line. Because they share it,
// a line verifies only if it is byte-for-byte what the writer would have produced.

import { ByteWriter, writeCanonical, writeString } from '../crypto/canonical-bytes.js';
import { domainHashJoined, sha256Hex } from '../crypto/index.js';
import { type CanonicalScan, scanCanonical } from './canonical-scan.js';
import { EVENT_HASH_DOMAIN } from './event.js';

const HASH_KEY = 'event_hash';
const COMMA = 0x2c;
/** The key of the member the hash leaves out, as bytes: what a scan of a line looks for. */
export const HASH_KEY_BYTES: Uint8Array = Buffer.from(HASH_KEY, 'latin1');

export interface EncodedEvent {
  readonly hash: string;
  /** The canonical line including `event_hash`, without the trailing newline. */
  readonly line: string;
}

export interface EncodedEventBytes {
  readonly hash: string;
  /**
   * The canonical line including `event_hash`, with its trailing newline, as UTF-8: a view
   * of the encoder's buffer, valid only until the next encoding (write or copy it first).
   */
  readonly bytes: Buffer;
}

const HASH_KEY_LENGTH = HASH_KEY.length;
/** `"event_hash":"` and `"` around a 64-digit hash, with one joining comma. */
const HASH_MEMBER_BYTES = HASH_KEY_LENGTH + 4 + 64 + 1 + 1;
const writer = new ByteWriter(Buffer.from(`${EVENT_HASH_DOMAIN}\0`, 'utf8'));

/**
 * The top-level keys in JCS order. The recorder adds its chain fields after the caller's,
 * so an event's keys come out of order, the same way for every event of a kind: the last
 * order seen is remembered and reused when the same keys come again (compared one by one).
 */
let lastKeys: string[] = [];
let lastSorted: string[] = [];
function eventKeys(fields: object): string[] {
  const keys = Object.keys(fields);
  if (keys.length === lastKeys.length) {
    let same = true;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== lastKeys[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastSorted;
  }
  lastKeys = keys;
  lastSorted = [...keys].sort();
  return lastSorted;
}

/**
 * Encode the fields of an event (everything but `event_hash`) into bytes: the hash is taken
 * over the RFC 8785 form of those fields with domain separation (the domain sits in front of
 * them in the buffer), and the line is that form with the `event_hash` member moved in at its
 * place in key order. One walk of the fields; no string of the event is built.
 */
export function encodeEventBytes(fields: Readonly<Record<string, unknown>>): EncodedEventBytes {
  writer.reset();
  const keys = eventKeys(fields);
  const start = writer.pos;
  writer.byte(0x7b);
  let cut = -1;
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const value = fields[key];
    if (key === HASH_KEY || value === undefined) continue;
    if (cut < 0 && key > HASH_KEY) cut = writer.pos;
    if (!first) writer.byte(0x2c);
    first = false;
    writeString(writer, key);
    writer.byte(0x3a);
    writeCanonical(writer, value);
  }
  if (cut < 0) cut = writer.pos;
  writer.byte(0x7d);
  const end = writer.pos;
  const hash = sha256Hex(writer.bytes.subarray(0, end));
  const before = cut > start + 1;
  const after = cut < end - 1;
  const member = `${before ? ',' : ''}"${HASH_KEY}":"${hash}"${!before && after ? ',' : ''}`;
  writer.ensure(HASH_MEMBER_BYTES + 1);
  const bytes = writer.bytes;
  bytes.copyWithin(cut + member.length, cut, end);
  writer.pos = cut;
  writer.ascii(member);
  const lineEnd = end + member.length;
  bytes[lineEnd] = 0x0a;
  writer.pos = lineEnd + 1;
  return { hash, bytes: bytes.subarray(start, lineEnd + 1) };
}

/**
 * Encode the fields of an event (everything but `event_hash`): the hash is taken over the
 * RFC 8785 form of those fields with domain separation, and the line is the RFC 8785 form
 * of the fields plus `event_hash` (encodeEventBytes, as a string).
 */
export function encodeEvent(fields: Readonly<Record<string, unknown>>): EncodedEvent {
  const { hash, bytes } = encodeEventBytes(fields);
  return { hash, line: bytes.toString('utf8', 0, bytes.length - 1) };
}

/**
 * The hash encodeEvent gives the event of a canonical line, from the line's bytes: the
 * top-level event_hash member (located by scanCanonical) leaves with the comma that joins
 * it to a neighbour, exactly as encodeEvent cuts it, and the rest is hashed as it stands.
 * Only for lines scanCanonical accepted: then the rest is the canonical form of the fields.
 */
export function lineEventHash(line: Uint8Array, member: CanonicalScan): string {
  let cutStart = member.memberStart;
  let cutEnd = member.memberEnd;
  if (line[cutStart - 1] === COMMA) cutStart -= 1;
  else if (line[cutEnd] === COMMA) cutEnd += 1;
  return domainHashJoined(EVENT_HASH_DOMAIN, line.subarray(0, cutStart), line.subarray(cutEnd));
}

/**
 * Whether a line is canonical and hashes to the event_hash it carries, from its bytes
 * alone (what the verifier's second thread checks; everything else is checked beside it).
 */
export function lineIntact(line: Uint8Array): boolean {
  const scan = scanCanonical(line, HASH_KEY_BYTES);
  if (scan === null) return false;
  // No event_hash: a checkpoint line, whose form is all there is to check here (its count,
  // head and signature are checked against the chain by the main thread; an event without
  // event_hash fails its shape check there).
  if (scan.memberStart < 0) return true;
  const hash = lineEventHash(line, scan);
  // The member is `"event_hash":"<hash>"`: its value starts after the key, colon and quote.
  const at = scan.memberStart + HASH_KEY.length + 4;
  if (scan.memberEnd !== at + hash.length + 1) return false;
  for (let k = 0; k < hash.length; k++) if (line[at + k] !== hash.charCodeAt(k)) return false;
  return true;
}
