// RFC 8785 JSON Canonicalization Scheme (JCS): the one encoding every hash and signature in
// AgentK is computed over. Keys sorted by UTF-16 code units, numbers in ECMAScript form,
// strings with JSON's minimal escaping, no whitespace.
// Input distrusted: values parsed from logs. Non-finite numbers, lone surrogates (not
// I-JSON, RFC 7493), and non-plain values are rejected with TypeError, never encoded.

export function canonicalize(value: unknown): string {
  // Fast path: a copy with sorted keys, serialised natively (same output, about a third
  // faster); values it cannot order natively take the exact path below.
  const sorted = sortedCopy(value, 0);
  return sorted === UNORDERABLE ? exact(value) : JSON.stringify(sorted);
}

const UNORDERABLE = Symbol('unorderable');
/** Keys JavaScript orders numerically ahead of the rest, whatever the insertion order. */
const INDEX_KEY = /^(?:0|[1-9][0-9]*)$/;
const MAX_FAST_DEPTH = 256;

/**
 * A copy of a JSON value with every object's keys in JCS order, or UNORDERABLE when
 * native serialisation would not give the JCS form: an array-index-like key (JavaScript
 * lists those first), a `__proto__` key (assignment would not create it), or a value JCS
 * rejects (left to exact(), which throws).
 */
function sortedCopy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() ? value : UNORDERABLE;
    case 'number':
      return Number.isFinite(value) ? value : UNORDERABLE;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (depth > MAX_FAST_DEPTH) return UNORDERABLE;
      // JSON.stringify would honour a toJSON method (own, hidden or inherited): exact path.
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return UNORDERABLE;
      // Copy on write: a part already in order is returned as it is, so a record built
      // with sorted keys costs one walk and no allocation.
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return UNORDERABLE;
        let out: unknown[] | null = null;
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          const copy = sortedCopy(item, depth + 1);
          if (copy === UNORDERABLE) return UNORDERABLE;
          if (copy !== item && out === null) out = value.slice(0, i);
          if (out !== null) out.push(copy);
        }
        return out ?? value;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return UNORDERABLE;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      let ordered = true;
      for (let i = 1; i < keys.length; i++) {
        if ((keys[i - 1] as string) > (keys[i] as string)) {
          ordered = false;
          break;
        }
      }
      if (!ordered) keys.sort();
      let out: Record<string, unknown> | null = ordered ? null : {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        // `__proto__` would set the copy's prototype instead of a member: exact path.
        // (A key that starts with a digit may be an index: only those go to the regex.)
        const first = key.charCodeAt(0);
        if ((first >= 48 && first <= 57 && INDEX_KEY.test(key)) || key === '__proto__') {
          return UNORDERABLE;
        }
        if (!key.isWellFormed()) return UNORDERABLE;
        const item = record[key];
        if (item === undefined) continue;
        const copy = sortedCopy(item, depth + 1);
        if (copy === UNORDERABLE) return UNORDERABLE;
        if (copy !== item && out === null) {
          out = {};
          for (let j = 0; j < i; j++) {
            const earlier = keys[j] as string;
            if (record[earlier] !== undefined) out[earlier] = record[earlier];
          }
        }
        if (out !== null) out[key] = copy;
      }
      return out ?? value;
    }
    default:
      return UNORDERABLE;
  }
}

/** The JCS form, built by hand: exact for every value, and the one that throws. */
function exact(value: unknown): string {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new TypeError('JCS: string holds a lone surrogate');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('JCS: number is not finite');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += exact(value[i]);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError('JCS: only plain objects and arrays can be encoded');
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        if (!first) out += ',';
        first = false;
        if (!key.isWellFormed()) throw new TypeError('JCS: key holds a lone surrogate');
        out += `${JSON.stringify(key)}:${exact(item)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`JCS: cannot encode a value of type ${typeof value}`);
  }
}
