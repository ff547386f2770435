import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/crypto/index.js';
import {
  ContentReader,
  hashOf,
  MAX_SCANNED_STRINGS,
  textOf,
  walkAnswer,
} from '../../src/kernel/content.js';

/**
 * The two walks walkAnswer replaces: a string map (as the kernel had it, now over member
 * names too, each before its value), then textOf.
 */
function referenceMap(
  value: unknown,
  map: (text: string, key: string | undefined) => string,
  key?: string,
): unknown {
  if (typeof value === 'string') return map(value, key);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const mapped = referenceMap(item, map);
      if (mapped !== item) changed = true;
      return mapped;
    });
    return changed ? out : value;
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [member, item] of Object.entries(value)) {
      const name = map(member, undefined);
      const mapped = referenceMap(item, map, member);
      if (mapped !== item || name !== member) changed = true;
      Object.defineProperty(out, name, {
        value: mapped,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return changed ? out : value;
  }
  return value;
}

/** A map that rewrites some strings and records every call, in order. */
function recordingMap() {
  const calls: [string, string | undefined][] = [];
  const map = (text: string, key: string | undefined) => {
    calls.push([text, key]);
    return text.includes('a') ? text.replaceAll('a', 'secret_fd_') : text;
  };
  return { calls, map };
}

const base64Text = fc
  .string({ minLength: 1, maxLength: 40 })
  .map((text) => Buffer.from(text, 'utf8').toString('base64'));
/** JSON values with `blob` members holding base64 text, as MCP resource contents do. */
const answers = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constant('blob'), fc.string({ maxLength: 6 })), tie('value'), {
      maxKeys: 4,
    }),
    fc.record({ uri: fc.string(), blob: base64Text }),
  ),
})).value;

describe('walkAnswer', () => {
  it('maps and reads a value exactly as a map walk and then textOf() would', () => {
    fc.assert(
      fc.property(answers, (value) => {
        const ours = recordingMap();
        const theirs = recordingMap();
        const walked = walkAnswer(value, ours.map);
        const mapped = referenceMap(value, theirs.map);
        expect(walked.value).toStrictEqual(mapped);
        // Unchanged parts are shared, changed ones copied, as before.
        expect(walked.value === value).toBe(mapped === value);
        expect(walked.text).toBe(textOf(mapped));
        // Secret capture has effects (a secret.open syscall each): same calls, same order.
        expect(ours.calls).toEqual(theirs.calls);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a __proto__ member a member', () => {
    const value = JSON.parse('{"__proto__": "a", "x": ["a"]}');
    const walked = walkAnswer(value, (text) => text.replaceAll('a', 'A'));
    expect(Object.keys(walked.value as object)).toEqual(['__proto__', 'x']);
    expect(Object.getPrototypeOf(walked.value)).toBe(Object.prototype);
    expect(walked.text).toBe('__proto__\nA\nx\nA');
  });

  it('has no text past the scanners’ bounds, and still maps everything', () => {
    const many = Array.from({ length: MAX_SCANNED_STRINGS + 1 }, (_, i) => `s${i}`);
    let mapped = 0;
    const walked = walkAnswer({ many }, (text) => {
      mapped += 1;
      return text;
    });
    expect(walked.text).toBeNull();
    expect(textOf({ many })).toBeNull();
    expect(mapped).toBe(many.length + 1); // and the member name

    // Values that are not strings count too: a flood of nulls is not scanned in part.
    const nulls = new Array(4 * MAX_SCANNED_STRINGS + 1).fill(null);
    expect(walkAnswer(nulls, (text) => text).text).toBeNull();
    expect(textOf(nulls)).toBeNull();
  });

  it('reads bytes as text and never rewrites them', () => {
    const bytes = Buffer.from('token a');
    const walked = walkAnswer(bytes, (text) => text.toUpperCase());
    expect(walked.value).toBe(bytes);
    expect(walked.text).toBe('token a');
  });
});

describe('ContentReader', () => {
  it('gives the text and hash textOf() and hashOf() give', () => {
    const reader = new ContentReader();
    const value = { b: [1, 'two'], a: 'three' };
    expect(reader.text(value)).toBe(textOf(value));
    expect(reader.hash(value)).toBe(hashOf(value));
    expect(reader.canonicalHash(value)).toBe(sha256Hex('{"a":"three","b":[1,"two"]}'));
    expect(reader.hash('text')).toBe(hashOf('text'));
  });

  it('refuses what is not JSON data, as canonicalize does', () => {
    expect(() => new ContentReader().canonicalHash({ n: Number.NaN })).toThrow(TypeError);
    expect(() => new ContentReader().canonicalHash({ s: '\ud800' })).toThrow(TypeError);
  });
});
