import canonicalizeModule from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/crypto/canonical.js';
import { domainHash } from '../../src/crypto/index.js';
import { encodeEvent } from '../../src/recorder/encode.js';
import { EVENT_HASH_DOMAIN } from '../../src/recorder/event.js';

// canonicalize@2 is CommonJS whose typings claim an ES default export.
const canonicalizeReference = canonicalizeModule as unknown as (value: unknown) => string;

describe('canonicalize', () => {
  it('matches the RFC 8785 section 3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units (RFC 8785 section 3.2.3)', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    );
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('agrees with the reference implementation on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const reference = canonicalizeReference(value);
        return canonicalize(value) === reference;
      }),
      { numRuns: 500 },
    );
  });

  it('orders array-index-like keys as strings, not as JavaScript orders them', () => {
    expect(canonicalize({ a: 3, 10: 1, 9: 2, '!': 4, '01': 5 })).toBe(
      '{"!":4,"01":5,"10":1,"9":2,"a":3}',
    );
    const keys = fc.oneof(fc.string({ maxLength: 4 }), fc.nat(1000).map(String));
    fc.assert(
      fc.property(fc.dictionary(keys, fc.jsonValue({ maxDepth: 2 })), (value) => {
        return canonicalize(value) === canonicalizeReference(value);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a __proto__ member (it must not vanish from hashes)', () => {
    const value = JSON.parse('{"__proto__":{"mode":"rm -rf ~"},"a":2}');
    expect(canonicalize(value)).toBe('{"__proto__":{"mode":"rm -rf ~"},"a":2}');
    expect(canonicalize(value)).toBe(canonicalizeReference(value));
    expect(canonicalize(JSON.parse('{"__proto__":{"mode":"safe"},"a":2}'))).not.toBe(
      canonicalize(value),
    );
  });

  it('rejects what I-JSON forbids instead of encoding it', () => {
    expect(() => canonicalize(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalize(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => canonicalize('\ud800')).toThrow(TypeError);
    expect(() => canonicalize({ '\udc00': 1 })).toThrow(TypeError);
    expect(() => canonicalize(new Date(0))).toThrow(TypeError);
    expect(() => canonicalize(10n)).toThrow(TypeError);
  });

  it('skips undefined members like JSON does', () => {
    expect(canonicalize({ b: undefined, a: 1 })).toBe('{"a":1}');
  });

  it('encodes the members of a value that has a toJSON method, not what toJSON says', () => {
    const list = Object.assign([1, 2], { toJSON: () => 'x' });
    expect(canonicalize(list)).toBe('[1,2]');
    expect(canonicalize({ k: list })).toBe('{"k":[1,2]}');
    class Tagged extends Array {
      toJSON() {
        return 'x';
      }
    }
    expect(canonicalize({ k: Tagged.from([3]) })).toBe('{"k":[3]}');
    const hidden = Object.defineProperty({ a: 1 }, 'toJSON', { value: () => 'x' });
    expect(canonicalize(hidden)).toBe('{"a":1}');
  });
});

describe('encodeEvent', () => {
  it('is its definition: hash over the fields without event_hash, line with it', () => {
    const key = fc.oneof(
      fc.constantFrom('agent_id', 'decision', 'event_hash', 'previous_hash', 'v', '', 'event'),
      // Keys JavaScript orders apart, a prototype's name, neighbours of event_hash.
      fc.constantFrom('0', '10', '__proto__', 'event_has', 'event_hash0', 'event_hasi', 'é'),
      fc.string({ maxLength: 6 }),
    );
    const value = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 8, noNullPrototype: false }), (fields) => {
        const { event_hash: _ignored, ...rest } = fields as Record<string, unknown>;
        const hash = domainHash(EVENT_HASH_DOMAIN, canonicalize(rest));
        expect(encodeEvent(fields)).toEqual({
          hash,
          line: canonicalize({ ...rest, event_hash: hash }),
        });
      }),
      { numRuns: 2000 },
    );
  });
});
