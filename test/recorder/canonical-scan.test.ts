// The byte scanner the verifier trusts instead of re-encoding each line: it must accept
// exactly the texts canonicalize() produces. Checked against the reference definition
// (a text is canonical when it is valid UTF-8 JSON and canonicalize(JSON.parse(text))
// gives it back) on random values, random byte edits, and the edits a forger would try.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/crypto/canonical.js';
import { isCanonicalJson, scanCanonical } from '../../src/recorder/canonical-scan.js';
import { encodeEvent, lineEventHash, lineIntact } from '../../src/recorder/encode.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The definition the scanner must agree with. */
function referenceCanonical(bytes: Uint8Array): boolean {
  try {
    const text = decoder.decode(bytes);
    return canonicalize(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

const scans = (text: string): boolean => isCanonicalJson(Buffer.from(text, 'utf8'));

/** JSON values with every kind of string: ASCII with controls, any code point, graphemes. */
const anyJson = fc.oneof(
  fc.jsonValue(),
  fc.jsonValue({ stringUnit: 'binary-ascii' }),
  fc.jsonValue({ stringUnit: 'binary' }),
  fc.jsonValue({ stringUnit: 'grapheme' }),
);

/** Bytes worth inserting or substituting: JSON syntax, escapes, digits and UTF-8 pieces. */
const interestingByte = fc.constantFrom(
  ...Buffer.from(' \t\n\r"\\/,:[]{}0123456789-+.eEubfnrtaA'),
  0x00,
  0x1f,
  0x7f,
  0x80,
  0xbf,
  0xc0,
  0xc3,
  0xe2,
  0xed,
  0xef,
  0xf0,
  0xf4,
  0xff,
);

describe('scanCanonical', () => {
  it('accepts whatever canonicalize produces', () => {
    fc.assert(
      fc.property(anyJson, (value) => scans(canonicalize(value))),
      { numRuns: 2000 },
    );
  });

  it('agrees with the reference on every byte edit of a canonical text', () => {
    const edit = fc.record({
      kind: fc.constantFrom('replace', 'insert', 'delete'),
      at: fc.nat(),
      byte: interestingByte,
    });
    fc.assert(
      fc.property(anyJson, fc.array(edit, { minLength: 1, maxLength: 3 }), (value, edits) => {
        let bytes = Buffer.from(canonicalize(value), 'utf8');
        for (const { kind, at, byte } of edits) {
          const i = bytes.length === 0 ? 0 : at % (bytes.length + (kind === 'insert' ? 1 : 0));
          const before = bytes.subarray(0, i);
          if (kind === 'insert')
            bytes = Buffer.concat([before, Buffer.of(byte), bytes.subarray(i)]);
          else if (kind === 'delete') bytes = Buffer.concat([before, bytes.subarray(i + 1)]);
          else if (i < bytes.length) bytes[i] = byte;
        }
        return isCanonicalJson(bytes) === referenceCanonical(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects added whitespace', () => {
    fc.assert(
      fc.property(anyJson, fc.constantFrom(' ', '\t', '\n', '\r'), (value, space) => {
        const canonical = canonicalize(value);
        // Whitespace before the value, after it, and (by pretty-printing) between tokens.
        const spaced = JSON.stringify(JSON.parse(canonical), null, space);
        return (
          !scans(`${space}${canonical}`) &&
          !scans(`${canonical}${space}`) &&
          (spaced === canonical || !scans(spaced))
        );
      }),
    );
  });

  it('rejects keys out of order and repeated keys', () => {
    const records = fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue(), {
      minKeys: 2,
      maxKeys: 6,
    });
    fc.assert(
      fc.property(records, (record) => {
        const keys = Object.keys(record).sort();
        const member = (key: string) => `${canonicalize(key)}:${canonicalize(record[key])}`;
        const object = (order: string[]) => `{${order.map(member).join(',')}}`;
        const [first, second, ...rest] = keys as [string, string, ...string[]];
        return (
          object(keys) === canonicalize(record) &&
          scans(object(keys)) &&
          !scans(object([second, first, ...rest])) &&
          !scans(object([first, ...keys]))
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('sorts keys by UTF-16 code units, not by code points or bytes', () => {
    // U+10000 is the surrogate pair D800 DC00, which sorts before U+FFFF and U+E000.
    expect(scans('{"\u{10000}":1,"\uffff":2}')).toBe(true);
    expect(scans('{"\uffff":2,"\u{10000}":1}')).toBe(false);
    expect(scans('{"\\n":1,"a":2}')).toBe(true);
    expect(scans('{"a":2,"\\n":1}')).toBe(false);
    expect(scans('{"10":1,"9":2}')).toBe(true);
    expect(scans('{"a":1,"ab":2}')).toBe(true);
    expect(scans('{"ab":1,"a":2}')).toBe(false);
  });

  it('rejects every escape JSON.stringify would not write', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (code) => {
        const hex = code.toString(16).padStart(4, '0');
        const lower = `"\\u${hex}"`;
        const upper = `"\\u${hex.toUpperCase()}"`;
        const written = JSON.stringify(String.fromCharCode(code));
        const wellFormed = String.fromCharCode(code).isWellFormed();
        return (
          scans(lower) === (wellFormed && written === lower) &&
          scans(upper) === (wellFormed && written === upper) &&
          scans(written) === wellFormed
        );
      }),
      { numRuns: 3000 },
    );
    expect(scans('"\\u0041"')).toBe(false);
    expect(scans('"\\/"')).toBe(false);
    expect(scans('"/"')).toBe(true);
    expect(scans('"\\u001f"')).toBe(true);
    expect(scans('"\\u001F"')).toBe(false);
    expect(scans('"\\u000a"')).toBe(false);
    expect(scans('"\\n"')).toBe(true);
    expect(scans('"\\ud800"')).toBe(false);
    expect(scans('"\\ud83d\\ude00"')).toBe(false);
    expect(scans('"😀"')).toBe(true);
    expect(scans('"\u2028\u007f"')).toBe(true);
  });

  it('rejects every number form but the shortest JavaScript prints', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const written = JSON.stringify(n);
        const plain = !written.includes('e');
        const alternatives = [
          plain ? (written.includes('.') ? `${written}0` : `${written}.0`) : `${written}.0`,
          n.toExponential(),
          n.toExponential().replace('e+', 'e'),
          n.toExponential().toUpperCase(),
          n.toPrecision(20),
          `0${written}`,
          `+${written}`,
        ].filter((form) => form !== written);
        return scans(written) && alternatives.every((form) => !scans(form));
      }),
      { numRuns: 2000 },
    );
    for (const form of [
      '-0',
      '1.0',
      '1e2',
      '1E2',
      '1e+2',
      '100.0',
      '0.10',
      '1e21',
      '1E+21',
      '01',
      '.5',
      '5.',
      '1e999',
      '-',
    ]) {
      expect([form, scans(form)]).toEqual([form, false]);
    }
    for (const form of ['9007199254740993', '1.00000000000000001', '0.1000000000000000055']) {
      expect([form, scans(form)]).toEqual([form, false]);
    }
    for (const form of [
      '0',
      '-1',
      '100',
      '1e+21',
      '1.5e-7',
      '0.000001',
      '123456789012345680000',
      '9007199254740992',
      '-999999999999999',
    ]) {
      expect([form, scans(form)]).toEqual([form, true]);
    }
  });

  it('rejects malformed UTF-8: overlong, surrogate, past U+10FFFF, cut short', () => {
    for (const bytes of [
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0xe2, 0x82],
      [0x80],
    ]) {
      const text = Buffer.from([0x22, ...bytes, 0x22]);
      expect([bytes, isCanonicalJson(text)]).toEqual([bytes, false]);
    }
  });

  it('rejects what is not one JSON value', () => {
    for (const text of [
      '',
      '{',
      '{"a"}',
      '{"a":}',
      '[1,]',
      '[,1]',
      '{"a":1,}',
      'tru',
      'nul',
      '1 2',
      '"a"b',
      '{}{}',
      '[]]',
    ]) {
      expect([text, scans(text)]).toEqual([text, false]);
    }
    // Nesting within what canonicalize() can encode is scanned; deeper is left to the
    // verifier's exact path (JSON.stringify and canonicalize overflow the stack there).
    expect(scans(`${'[{"a":'.repeat(500)}1${'}]'.repeat(500)}`)).toBe(true);
    expect(scans(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBe(false);
  });
});

describe('lineEventHash', () => {
  it('hashes a canonical line as encodeEvent hashes its event', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()), (fields) => {
        const { hash, line } = encodeEvent(fields);
        const bytes = Buffer.from(line, 'utf8');
        const scan = scanCanonical(bytes, Buffer.from('event_hash'));
        if (scan === null) return false;
        return lineEventHash(bytes, scan) === hash && lineIntact(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('finds only the top-level event_hash, not one nested deeper', () => {
    const { line } = encodeEvent({ a: { event_hash: 'x' }, z: [{ event_hash: 'y' }] });
    const scan = scanCanonical(Buffer.from(line), Buffer.from('event_hash'));
    expect(scan).not.toBeNull();
    expect(line.slice(scan?.memberStart, scan?.memberEnd)).toMatch(/^"event_hash":"[0-9a-f]{64}"$/);
    expect(lineIntact(Buffer.from(line))).toBe(true);
    expect(lineIntact(Buffer.from(line.replace('"x"', '"X"')))).toBe(false);
  });
});
