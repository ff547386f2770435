// Value provenance, first cut: exact values (URLs, e-mail addresses, paths, long numbers,
// secret handles) are fingerprinted out of every context page into a hash map from value
// to the pages it appeared in, so matching a call's arguments costs a few map lookups
// however large the context grows. An argument's labels are the join of those pages.
// Input distrusted: page text and argument values.

const URL_RE = /\bhttps?:\/\/[^\s"'<>`\\{}|^]+/gi;
const EMAIL_RE = /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}\b/g;
const PATH_RE = /(?<![\w:/.~-])(?:~|\$HOME)?\/[\w.-]+(?:\/[\w.-]+)*/g;
const NUMBER_RE = /(?<![\w.])\+?\d[\d -]{5,30}\d(?!\w|\.\d)/g;
const IBAN_RE = /\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b/g;

const TRAILING_PUNCTUATION = /[.,;:!?)\]]+$/;

/** Exact values worth tracking, normalised (case-folded URLs/addresses, digits only). */
export function extractValues(text: string): Set<string> {
  const out = new Set<string>();
  for (const match of text.matchAll(URL_RE)) {
    const url = match[0].replace(TRAILING_PUNCTUATION, '');
    if (url.length > 10) out.add(`url:${url.toLowerCase()}`);
  }
  for (const match of text.matchAll(EMAIL_RE)) out.add(`email:${match[0].toLowerCase()}`);
  for (const match of text.matchAll(PATH_RE)) {
    const path = match[0].replace(TRAILING_PUNCTUATION, '').replace(/^\$HOME/, '~');
    if (path.length > 3 && path.split('/').some((part) => part.length > 1)) out.add(`path:${path}`);
  }
  for (const match of text.matchAll(NUMBER_RE)) {
    const digits = match[0].replace(/\D/g, '');
    if (digits.length >= 7) out.add(`num:${digits}`);
  }
  for (const match of text.matchAll(IBAN_RE)) out.add(`iban:${match[0]}`);
  return out;
}

/** Collect every string inside a JSON-like value (keys included), bounded in count. */
export function stringsOf(value: unknown, limit = 10_000): string[] {
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0 && out.length < limit) {
    const item = stack.pop();
    if (typeof item === 'string') out.push(item);
    else if (typeof item === 'number' || typeof item === 'bigint') out.push(String(item));
    else if (Array.isArray(item)) for (const child of item) stack.push(child);
    else if (typeof item === 'object' && item !== null) {
      for (const [key, child] of Object.entries(item)) {
        out.push(key);
        stack.push(child);
      }
    }
  }
  return out;
}

/** Where one value was seen. */
export interface ValueOrigin {
  readonly pageId: string;
  readonly labels: number;
}

export class ValueIndex {
  readonly #origins = new Map<string, ValueOrigin[]>();
  readonly #maxOriginsPerValue: number;

  constructor(maxOriginsPerValue = 8) {
    this.#maxOriginsPerValue = maxOriginsPerValue;
  }

  get size(): number {
    return this.#origins.size;
  }

  /** Index the values of a page's text. */
  add(pageId: string, labels: number, text: string): void {
    for (const value of extractValues(text)) {
      let list = this.#origins.get(value);
      if (!list) {
        list = [];
        this.#origins.set(value, list);
      }
      // Keep the first pages a value appeared in; later repeats add no new provenance
      // unless they carry labels the kept ones do not.
      if (
        list.length < this.#maxOriginsPerValue ||
        list.every((o) => (o.labels | labels) !== o.labels)
      ) {
        list.push({ pageId, labels });
      }
    }
  }

  /** The pages each value of `text` appeared in. */
  lookup(text: string): ValueOrigin[] {
    const out: ValueOrigin[] = [];
    for (const value of extractValues(text)) {
      const origins = this.#origins.get(value);
      if (origins) out.push(...origins);
    }
    return out;
  }
}
