// The only module that imports node:crypto: SHA-256 digests with domain separation,
// Ed25519 keys, signatures and verification, constant-time digest comparison, random ids.
// Input distrusted: signatures, public keys and digests read from logs and manifests;
// verification returns false on any malformed value and never throws.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  hash,
  type KeyObject,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { memoized } from '../memo.js';

const HEX_128 = /^[0-9a-f]{128}$/;
const NOT_HEX = /[^0-9a-f]/;

export function isHex64(value: unknown): value is string {
  // Length first, then one search for a stray character: the same answer as matching
  // /^[0-9a-f]{64}$/, in about two thirds of the time (the verifier asks this several
  // times per event).
  return typeof value === 'string' && value.length === 64 && !NOT_HEX.test(value);
}

export function sha256Hex(data: string | Uint8Array): string {
  // One-shot: no Hash object per call (a third faster on the small inputs of events).
  return hash('sha256', data, 'hex');
}

/**
 * SHA-256 over `domain || 0x00 || body`. Every hash that carries meaning (events, receipts,
 * handles, seals, requests) is domain-separated so that one kind can never be replayed as
 * another.
 */
export function domainHash(domain: string, body: string | Uint8Array): string {
  if (typeof body === 'string') return hash('sha256', `${domain}\0${body}`, 'hex');
  return createHash('sha256').update(domain).update('\0').update(body).digest('hex');
}

// Bodies up to this size are hashed in one call from a reused buffer (bounded memory).
const JOIN_SCRATCH_BYTES = 64 * 1024;
const joinScratch = Buffer.allocUnsafe(JOIN_SCRATCH_BYTES);

/**
 * domainHash of the body `head || tail` (a line with a member cut out of it), without
 * building the body: the verifier hashes canonical lines this way, as they stand.
 */
export function domainHashJoined(domain: string, head: Uint8Array, tail: Uint8Array): string {
  const prefix = Buffer.byteLength(domain) + 1;
  const total = prefix + head.length + tail.length;
  if (total > JOIN_SCRATCH_BYTES) {
    return createHash('sha256').update(domain).update('\0').update(head).update(tail).digest('hex');
  }
  joinScratch.write(domain, 0, 'utf8');
  joinScratch[prefix - 1] = 0;
  joinScratch.set(head, prefix);
  joinScratch.set(tail, prefix + head.length);
  return hash('sha256', joinScratch.subarray(0, total), 'hex');
}

/** Constant-time equality of two hex digests (length checked first). */
export function digestEquals(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

// Random ids are drawn from a pool refilled from the CSPRNG 4 KiB at a time: one
// getrandom call per ~250 receipt ids instead of one each. Every byte is used once.
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;

/** `bytes` fresh random bytes from the CSPRNG, as hex. */
export function randomHex(bytes: number): string {
  if (bytes > POOL_SIZE / 4) return randomBytes(bytes).toString('hex');
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + bytes);
  pool.fill(0, poolAt, poolAt + bytes);
  poolAt += bytes;
  return hex;
}

// RFC 8410: PKCS#8 and SPKI DER prefixes for a raw 32-byte Ed25519 seed / public key.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export type KeySource = 'environment' | 'file' | 'development';

/** An Ed25519 signing key. The seed never leaves this object. */
export interface Signer {
  readonly algorithm: 'Ed25519';
  readonly publicKey: string;
  readonly source: KeySource;
  readonly fingerprint: string;
  signHex(message: string | Uint8Array): string;
}

// The private key of each signer this module made, for the signing thread only
// (signer-thread.ts hands it to a worker of this process; it never leaves the process).
const signingKeys = new WeakMap<Signer, KeyObject>();

/** The private key object of a signer this module made, or undefined for any other. */
export function signingKeyOf(signer: Signer): KeyObject | undefined {
  return signingKeys.get(signer);
}

class Ed25519Signer implements Signer {
  readonly algorithm = 'Ed25519' as const;
  readonly publicKey: string;
  readonly source: KeySource;
  readonly fingerprint: string;
  readonly #key: KeyObject;

  constructor(seed: Buffer, source: KeySource) {
    this.#key = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = createPublicKey(this.#key).export({ format: 'der', type: 'spki' });
    this.publicKey = spki.subarray(SPKI_ED25519_PREFIX.length).toString('hex');
    this.source = source;
    this.fingerprint = fingerprintOf(this.publicKey);
    signingKeys.set(this, this.#key);
  }

  signHex(message: string | Uint8Array): string {
    return sign(
      null,
      typeof message === 'string' ? Buffer.from(message) : message,
      this.#key,
    ).toString('hex');
  }

  // Keep the seed out of console.log, util.inspect and JSON.stringify.
  toJSON(): object {
    return { algorithm: this.algorithm, publicKey: this.publicKey, source: this.source };
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Signer(Ed25519, ${this.fingerprint}, ${this.source})`;
  }
}

/** A signer from a 32-byte seed given as 64 hex digits. Throws RangeError if malformed. */
export function signerFromSeedHex(seedHex: string, source: KeySource): Signer {
  const normalized = seedHex.trim().toLowerCase();
  if (!isHex64(normalized)) throw new RangeError('Ed25519 seed must be 64 hex digits');
  return new Ed25519Signer(Buffer.from(normalized, 'hex'), source);
}

/** A fresh random Ed25519 seed as 64 hex digits. */
export function generateSeedHex(): string {
  return randomBytes(32).toString('hex');
}

/** Redacted signer identity: never the raw key, stable across runs. */
export function fingerprintOf(publicKeyHex: string): string {
  return `ed25519:${sha256Hex(Buffer.from(publicKeyHex, 'hex')).slice(0, 16)}`;
}

// Encodings of the eight small-order points of edwards25519 (and their sign-flipped and
// non-canonical variants; the list libsodium rejects). With such a key a trivial
// signature verifies many messages, so these are never accepted as signers.
const SMALL_ORDER = new Set([
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
]);

/** A y coordinate >= p (2^255 - 19): a non-canonical encoding. */
function nonCanonical(publicKeyHex: string): boolean {
  const top = Number.parseInt(publicKeyHex.slice(62, 64), 16) & 0x7f;
  return (
    top === 0x7f &&
    /^[0-9a-f]{2}f{60}$/.test(publicKeyHex.slice(0, 62)) &&
    Number.parseInt(publicKeyHex.slice(0, 2), 16) >= 0xed
  );
}

/** Imported keys, by hex: logs name the same few signers over and over. */
const publicKeyObject = memoized((publicKeyHex): KeyObject | null => {
  if (SMALL_ORDER.has(publicKeyHex) || nonCanonical(publicKeyHex)) return null;
  try {
    return createPublicKey({
      key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(publicKeyHex, 'hex')]),
      format: 'der',
      type: 'spki',
    });
  } catch {
    return null;
  }
}, 1024);

/**
 * Whether 64 hex digits encode a usable Ed25519 public key: importable, not of small
 * order, canonically encoded. Never throws.
 */
export function isEd25519PublicKey(publicKeyHex: unknown): boolean {
  return isHex64(publicKeyHex) && publicKeyObject(publicKeyHex) !== null;
}

/** Ed25519 verification. Returns false for any malformed key or signature; never throws. */
export function verifyEd25519(
  publicKeyHex: unknown,
  message: string | Uint8Array,
  signatureHex: unknown,
): boolean {
  if (!isHex64(publicKeyHex) || typeof signatureHex !== 'string' || !HEX_128.test(signatureHex)) {
    return false;
  }
  const key = publicKeyObject(publicKeyHex);
  if (key === null) return false;
  try {
    return verify(
      null,
      typeof message === 'string' ? Buffer.from(message) : message,
      key,
      Buffer.from(signatureHex, 'hex'),
    );
  } catch {
    return false;
  }
}
