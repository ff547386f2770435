// RFC 8785 JSON Canonicalization Scheme (JCS): the one encoding every hash and signature in
// AgentK is computed over. Keys sorted by UTF-16 code units, numbers in ECMAScript form,
// strings with JSON's minimal escaping, no whitespace.
// Input distrusted: values parsed from logs. Non-finite numbers, lone surrogates (not
// I-JSON, RFC 7493), and non-plain values are rejected with TypeError, never encoded.

/**
 * Characters a JSON string can hold as they are: no quote, backslash, control character or
 * surrogate (a pair is fine, but is left to JSON.stringify with the lone ones it rejects).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what JSON must escape.
const PLAIN_TEXT = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** A string in JCS form: JSON's minimal escaping, which JSON.stringify gives a well-formed one. */
function encodeString(text: string): string {
  if (PLAIN_TEXT.test(text)) return `"${text}"`;
  if (!text.isWellFormed()) throw new TypeError('JCS: string holds a lone surrogate');
  return JSON.stringify(text);
}

/**
 * A member's key with its colon, remembered for the few hundred keys AgentK's own records
 * use (the cache stops growing there, so hostile keys cannot grow it).
 */
const memberKeys = new Map<string, string>();
const MEMBER_KEY_CACHE = 512;
export function memberKey(key: string): string {
  let encoded = memberKeys.get(key);
  if (encoded === undefined) {
    if (!key.isWellFormed()) throw new TypeError('JCS: key holds a lone surrogate');
    encoded = `${encodeString(key)}:`;
    if (memberKeys.size < MEMBER_KEY_CACHE) memberKeys.set(key, encoded);
  }
  return encoded;
}

/**
 * The JCS form in one walk: strings and keys escaped only when they need it, each object's
 * keys read in order (sorted only when they are not: records built in key order cost no
 * sort), and every value JCS rejects thrown as a TypeError. Keys are listed and sorted
 * here, never left to JavaScript's property order (which puts index-like keys first), and
 * an own `__proto__` member is read like any other.
 */
export function canonicalize(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value);
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
          out += canonicalize(value[i]);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError('JCS: only plain objects and arrays can be encoded');
      }
      const record = value as Record<string, unknown>;
      const keys = sortedKeys(record);
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const item = record[key];
        if (item === undefined) continue;
        out += out.length === 1 ? memberKey(key) : `,${memberKey(key)}`;
        out += canonicalize(item);
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`JCS: cannot encode a value of type ${typeof value}`);
  }
}

/** An object's own keys in UTF-16 code unit order (JCS), sorted only when out of order. */
export function sortedKeys(record: object): string[] {
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) return keys.sort();
  }
  return keys;
}
