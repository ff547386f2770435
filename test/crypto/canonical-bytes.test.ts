import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/crypto/canonical.js';
import { ByteWriter, canonicalSha256, writeCanonical } from '../../src/crypto/canonical-bytes.js';
import { domainHash, sha256Hex } from '../../src/crypto/index.js';

/** The bytes writeCanonical gives a value, as a string. */
function encoded(value: unknown, prefix = new Uint8Array(0), size?: number): string {
  const out = new ByteWriter(prefix, size);
  writeCanonical(out, value);
  return out.bytes.toString('utf8', prefix.length, out.pos);
}

// Strings over every kind of UTF-16 unit: controls, quote and backslash, 2- and 3-byte
// UTF-8, surrogate pairs, and lone surrogates (which both encoders must refuse alike).
const unit = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0x7ff }),
  fc.integer({ min: 0x800, max: 0xffff }),
  fc.constantFrom(0xd83d, 0xde00, 0x22, 0x5c, 0x7f, 0x1f),
);
const text = fc.array(unit, { maxLength: 40 }).map((codes) => String.fromCharCode(...codes));
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.double(),
    fc.integer(),
    fc.constantFrom(true, false, null, undefined, 0, -0, 2 ** 31, 1e21, 5e-324),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 5, noNullPrototype: false }),
  ),
})).value;

/** What canonicalize gives, or the TypeError it throws. */
function outcome(encode: () => string): string {
  try {
    return encode();
  } catch (error) {
    return error instanceof TypeError ? 'TypeError' : `other: ${String(error)}`;
  }
}

describe('writeCanonical', () => {
  it('writes exactly the UTF-8 of canonicalize, and refuses what it refuses', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(outcome(() => encoded(v))).toBe(outcome(() => canonicalize(v)));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees on long strings (copied natively when nothing needs escaping)', () => {
    // Mostly plain text, sometimes with one unit that must be escaped or encoded by hand.
    const plain = fc.constantFrom<number>(0x20, 0x41, 0x7a, 0x30, 0xe9, 0x4e2d);
    const long = fc
      .tuple(fc.array(plain, { minLength: 250, maxLength: 700 }), fc.option(unit), fc.nat())
      .map(([codes, odd, at]) => {
        if (odd !== null) codes.splice(at % (codes.length + 1), 0, odd);
        return String.fromCharCode(...codes);
      });
    fc.assert(
      fc.property(long, (t) => {
        expect(outcome(() => encoded({ t }, new Uint8Array(0), 8))).toBe(
          outcome(() => canonicalize({ t })),
        );
      }),
      { numRuns: 1500 },
    );
    expect(encoded('\ud83d\ude00'.repeat(200))).toBe(canonicalize('\ud83d\ude00'.repeat(200)));
  });

  it('agrees on arbitrary JSON, growing a small buffer and keeping its prefix', () => {
    const prefix = Buffer.from('domain\0');
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const out = new ByteWriter(prefix, 16);
        writeCanonical(out, v);
        expect(out.bytes.subarray(0, prefix.length).equals(prefix)).toBe(true);
        expect(out.bytes.toString('utf8', prefix.length, out.pos)).toBe(canonicalize(v));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses lone surrogates, non-finite numbers and non-plain values', () => {
    for (const bad of [
      '\ud800',
      'a\udc00b',
      '\ud83d',
      { '\ud800': 1 },
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      new Date(0),
      10n,
      [undefined],
      () => 1,
    ]) {
      expect(() => encoded(bad)).toThrow(TypeError);
    }
  });

  it('escapes as JSON does, with lowercase hex', () => {
    expect(encoded('\u0000\u001f"\\\b\f\n\r\t\u007f/')).toBe(
      '"\\u0000\\u001f\\"\\\\\\b\\f\\n\\r\\t\u007f/"',
    );
    expect(encoded({ b: [1, -0, 0.5, 1e21], a: 'é€😀' })).toBe('{"a":"é€😀","b":[1,0,0.5,1e+21]}');
  });
});

describe('canonicalSha256', () => {
  it('is the hash of canonicalize, with or without a domain, and refuses alike', () => {
    fc.assert(
      fc.property(value, fc.option(fc.string(), { nil: undefined }), (v, domain) => {
        const expected = outcome(() =>
          domain === undefined ? sha256Hex(canonicalize(v)) : domainHash(domain, canonicalize(v)),
        );
        expect(outcome(() => canonicalSha256(v, domain))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('starts afresh after a refusal and after a value larger than the buffer it keeps', () => {
    expect(() => canonicalSha256({ a: 'x', b: Number.NaN })).toThrow(TypeError);
    const big = { text: 'y'.repeat(3 << 20) };
    expect(canonicalSha256(big)).toBe(sha256Hex(canonicalize(big)));
    expect(canonicalSha256({ a: 1 }, 'd')).toBe(domainHash('d', '{"a":1}'));
  });
});
