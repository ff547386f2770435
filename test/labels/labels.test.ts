import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALL_LABELS,
  allNormalizedMasks,
  flowsTo,
  isNormalizedMask,
  joinLabels,
  joinMasks,
  LABELS,
  labelsOf,
  maskOf,
  restrictionsOnly,
  TRUSTED,
} from '../../src/labels/labels.js';

const normalized = fc.constantFrom(...allNormalizedMasks());

describe('joinMasks', () => {
  it('is commutative', () => {
    fc.assert(fc.property(normalized, normalized, (a, b) => joinMasks(a, b) === joinMasks(b, a)));
  });

  it('is associative', () => {
    fc.assert(
      fc.property(normalized, normalized, normalized, (a, b, c) => {
        return joinMasks(joinMasks(a, b), c) === joinMasks(a, joinMasks(b, c));
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(fc.property(normalized, (a) => joinMasks(a, a) === a));
  });

  it('has the empty set as identity and yields normalised sets', () => {
    fc.assert(
      fc.property(normalized, normalized, (a, b) => {
        return joinMasks(a, 0) === a && isNormalizedMask(joinMasks(a, b));
      }),
    );
  });

  it('never lowers a label: both operands flow to the join', () => {
    fc.assert(
      fc.property(normalized, normalized, (a, b) => {
        const j = joinMasks(a, b);
        return flowsTo(a, j) && flowsTo(b, j);
      }),
    );
  });

  it('drops trusted as soon as any integrity taint joins', () => {
    expect(joinLabels(['trusted'], ['untrusted'])).toEqual(['untrusted']);
    expect(joinLabels(['trusted'], ['external'])).toEqual(['external']);
    expect(joinLabels(['trusted'], ['poisoned-suspect'])).toEqual(['poisoned-suspect']);
    expect(joinLabels(['trusted'], ['private'])).toEqual(['trusted', 'private']);
  });
});

describe('labelsOf', () => {
  it('round-trips every normalised mask in canonical order', () => {
    for (const mask of allNormalizedMasks()) {
      const labels = labelsOf(mask);
      expect(maskOf(labels)).toBe(mask);
      expect([...labels]).toEqual(LABELS.filter((label) => labels.includes(label)));
    }
  });

  it('counts 36 normalised label sets of the 64 subsets', () => {
    // trusted with any of the 7 non-empty integrity-taint combinations, times the 4
    // confidentiality combinations, is never normal: 64 - 7 * 4 = 36.
    expect(allNormalizedMasks().length).toBe(36);
    expect(ALL_LABELS).toBe(63);
  });
});

describe('restrictionsOnly', () => {
  it('removes a caller-claimed trusted label and keeps every restriction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ALL_LABELS }), (mask) => {
        const kept = restrictionsOnly(mask);
        return (kept & TRUSTED) === 0 && (kept | TRUSTED) === (mask | TRUSTED);
      }),
    );
  });
});
