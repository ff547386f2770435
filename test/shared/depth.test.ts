import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holdsInexactNumber, nestedDeeperThan } from '../../src/depth.js';

/** The depth of a JSON value as the definition says: scalars 0, a container one more than its deepest child. */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

describe('nestedDeeperThan', () => {
  it('counts object and array levels alike: true past the limit', () => {
    expect(nestedDeeperThan(1, 0)).toBe(false);
    expect(nestedDeeperThan({}, 0)).toBe(true);
    expect(nestedDeeperThan({ a: [{ b: 1 }] }, 2)).toBe(true);
    expect(nestedDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestedDeeperThan([[], [[[]]]], 3)).toBe(true);
    expect(nestedDeeperThan([[], [[[]]]], 4)).toBe(false);
  });

  it('agrees with the depth of arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.nat(8), (value, limit) => {
        return nestedDeeperThan(value, limit) === depthOf(value) > limit;
      }),
      { numRuns: 500 },
    );
  });

  it('stops at the limit on a value nested far deeper than the stack allows', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(nestedDeeperThan(deep, 64)).toBe(true);
  });

  it('reads an own __proto__ member like any other', () => {
    expect(nestedDeeperThan(JSON.parse('{"__proto__":{"a":{"b":{}}}}'), 3)).toBe(true);
    expect(nestedDeeperThan(JSON.parse('{"__proto__":{"a":{"b":{}}}}'), 4)).toBe(false);
  });
});

describe('holdsInexactNumber', () => {
  it('finds an integer JSON.parse rounded, and only then', () => {
    const text = '{"id":9876543210987654321}';
    expect(holdsInexactNumber(text, JSON.parse(text))).toBe(true);
    const exact = '{"id":9007199254740991,"x":1e3}';
    expect(holdsInexactNumber(exact, JSON.parse(exact))).toBe(false);
  });
});
