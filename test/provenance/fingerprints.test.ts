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
  /** What addAll must do, on a Map: a new key is the page's; a known one joins labels. */
  function modelAdd(
    map: Map<number, { pageId: string; labels: number }>,
    keys: readonly number[],
    pageId: string,
    labels: number,
  ) {
    for (const key of keys) {
      const kept = map.get(key);
      if (!kept) map.set(key, { pageId, labels });
      else if ((kept.labels | labels) !== kept.labels) {
        map.set(key, { pageId, labels: kept.labels | labels });
      }
    }
  }

  it('answers as a Map of key to page and joined labels does, across growth and any 32-bit key', () => {
    const key = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.constantFrom(0, -1, 1, 2 ** 30, -(2 ** 31), 2 ** 31 - 1),
      fc.integer({ min: 0, max: 40 }), // the same keys again, on other pages
    );
    const page = fc.record({
      keys: fc.array(key, { maxLength: 400 }),
      labels: fc.integer({ min: 0, max: 63 }),
      probes: fc.array(key, { maxLength: 20 }),
    });
    fc.assert(
      fc.property(fc.array(page, { maxLength: 20 }), (pages) => {
        const table = new FingerprintTable();
        const map = new Map<number, { pageId: string; labels: number }>();
        pages.forEach(({ keys, labels, probes }, i) => {
          table.addAll(Int32Array.from(keys), `p${i}`, labels);
          modelAdd(map, keys, `p${i}`, labels);
          for (const k of probes) expect(table.get(k)).toEqual(map.get(k));
        });
        expect(table.size).toBe(map.size);
        for (const [k, v] of map) expect(table.get(k)).toEqual(v);
      }),
      { numRuns: 200 },
    );
  });

  it('holds a million entries (probing past taken slots), and finds none it was not given', () => {
    const table = new FingerprintTable();
    const keys = Int32Array.from({ length: 1_000_000 }, (_, i) => Math.imul(i, 7919) | 0);
    table.addAll(keys.subarray(0, 500_000), 'first', 1);
    table.addAll(keys.subarray(500_000), 'second', 2);
    expect(table.size).toBe(1_000_000);
    for (const i of [0, 1, 4095, 499_999]) {
      expect(table.get(Math.imul(i, 7919) | 0)).toEqual({ pageId: 'first', labels: 1 });
    }
    expect(table.get(Math.imul(999_999, 7919) | 0)).toEqual({ pageId: 'second', labels: 2 });
    expect(table.get(Math.imul(1_000_001, 7919) | 0)).toBeUndefined();
  });
});
