import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { valuesIn } from '../../src/provenance/extract.js';
import {
  FingerprintTable,
  foldText,
  GUARANTEED_MATCH,
  K,
  W,
  winnow,
} from '../../src/provenance/fingerprints.js';

/** foldText as first written: every run of whitespace rewritten. */
const referenceFold = (text: string) => text.toLowerCase().replace(/\s+/g, ' ').trim();

/** Winnowing as first written: fresh arrays, a monotonic deque, every window's pick added. */
function referenceWinnow(normalized: string): Set<number> {
  const out = new Set<number>();
  const n = normalized.length - K + 1;
  if (n <= 0) return out;
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
    out.add(Math.min(...hashes));
    return out;
  }
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
  return out;
}

/** Text from a small alphabet (so windows repeat and hashes tie), whitespace of every kind. */
const text = (maxLength: number) =>
  fc
    .array(
      fc.constantFrom(
        'a',
        'b',
        'C',
        ' ',
        ' ',
        '\t',
        '\n',
        '\r',
        '\u00a0',
        '\u2028',
        'x1',
        '\ud83d',
        '\ude00',
        'é',
      ),
      {
        maxLength,
      },
    )
    .map((parts) => parts.join(''));

describe('foldText', () => {
  it('folds case and every run of whitespace to one space, as the reference does', () => {
    fc.assert(fc.property(text(200), (t) => foldText(t) === referenceFold(t)));
    for (const t of ['', ' ', '  a  b ', '\ta\n\nb\r', 'a \u00a0b', 'ONE TWO']) {
      expect(foldText(t)).toBe(referenceFold(t));
    }
  });
});

describe('winnow', () => {
  it('picks the fingerprints the deque algorithm picks, on any text', () => {
    fc.assert(
      fc.property(text(600), (t) => {
        const folded = foldText(t);
        expect([...winnow(folded)].sort()).toEqual([...referenceWinnow(folded)].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('does so on long text, where the scratch array is reused and grown', () => {
    const words = 'the kernel reads each page and records what it saw 12-34 before acting';
    for (const length of [40_000, 5_000, 300_000]) {
      let folded = '';
      for (let i = 0; folded.length < length; i++) folded += `${words} ${i} `;
      expect([...winnow(folded)].sort()).toEqual([...referenceWinnow(folded)].sort());
    }
  });

  it('keeps the guarantee: a shared run of K + W - 1 characters shares a fingerprint', () => {
    fc.assert(
      fc.property(text(300), text(300), fc.string({ minLength: GUARANTEED_MATCH }), (a, b, s) => {
        const shared = foldText(s);
        fc.pre(shared.length >= GUARANTEED_MATCH);
        const left = winnow(foldText(`${a} ${shared} ${a}`));
        const right = winnow(foldText(`${b}\n${shared}\t${b}`));
        expect([...left].some((print) => right.has(print))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('valuesIn: the gates never hide a value', () => {
  // Text from what the extractors look for: digits, dots, capitals, hex letters, joiners.
  const parts = fc.constantFrom(
    '0',
    '1',
    '7',
    '9',
    '.',
    ' ',
    '(',
    ')',
    '-',
    '+',
    'A',
    'Z',
    'D',
    'E',
    'a',
    'b',
    'f',
    'g',
    'x',
    '\n',
    ':',
    '/',
    '@',
    'DE89',
    '4111',
    '192.168',
    'deadbeef',
    '-4a1b-',
    '2026-12-07',
  );
  const textOf = fc.array(parts, { maxLength: 80 }).map((p) => p.join(''));

  it('finds what every extractor run ungated finds', () => {
    fc.assert(
      fc.property(textOf, (t) => {
        expect([...valuesIn(t)].sort()).toEqual([...valuesIn(t, false)].sort());
      }),
      { numRuns: 3000 },
    );
    const known = [
      'call +1 (415) 555-0134 now',
      'pin 4111111 ok',
      'IBAN DE89 3704 0044 0532 0130 00 and DE89370400440532013000',
      'host 192.168.10.100 and 415.555.0134',
      'commit 3f2a9c1 and 123e4567-e89b-12d3-a456-426614174000',
    ];
    for (const t of known) {
      const found = valuesIn(t);
      expect(found.size).toBeGreaterThan(0);
      expect([...found].sort()).toEqual([...valuesIn(t, false)].sort());
    }
  });
});

describe('FingerprintTable', () => {
  it('answers get, set and size as a Map does, across growth and any 32-bit key', () => {
    const key = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.constantFrom(0, -1, 1, 2 ** 30, -(2 ** 31), 2 ** 31 - 1),
    );
    const op = fc.tuple(fc.boolean(), key, fc.nat());
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const table = new FingerprintTable<number>();
        const map = new Map<number, number>();
        for (const [write, k, v] of ops) {
          if (write) {
            table.set(k, v);
            map.set(k, v);
          } else expect(table.get(k)).toBe(map.get(k));
        }
        expect(table.size).toBe(map.size);
        for (const [k, v] of map) expect(table.get(k)).toBe(v);
      }),
      { numRuns: 200 },
    );
  });

  it('holds a million entries (probing past taken slots), and finds none it was not given', () => {
    const table = new FingerprintTable<string>();
    for (let i = 0; i < 1_000_000; i++) table.set(Math.imul(i, 7919) | 0, `v${i}`);
    expect(table.size).toBe(1_000_000);
    for (const i of [0, 1, 4095, 500_000, 999_999]) {
      expect(table.get(Math.imul(i, 7919) | 0)).toBe(`v${i}`);
    }
    expect(table.get(Math.imul(1_000_001, 7919) | 0)).toBeUndefined();
  });
});
