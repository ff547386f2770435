// The text of the last pages that entered the agent's context through this proxy, kept so
// that a question to a person can quote where a tainted value came from (a short excerpt
// around it), not only a page id and a hash. Bounded: recent pages, the start of each.
// Input distrusted: page text is untrusted content; it is shown to a person, clipped and
// with credential material redacted, never interpreted.

import { redactSecrets } from '../../provenance/detect.js';

/** Pages kept, and characters of each. */
const MAX_PAGES = 32;
const MAX_TEXT = 64 * 1024;
/** Characters shown on each side of the value. */
const CONTEXT = 60;

/** Members of an answer that say what its parts are, not what they say. */
const FORM_KEYS = new Set(['type', 'mimeType', 'annotations', '_meta']);

/** Every string in an answer (content texts, embedded resources, structured content). */
function textOf(content: unknown): string {
  const parts: string[] = [];
  let size = 0;
  const stack: unknown[] = [content];
  while (stack.length > 0 && size < MAX_TEXT) {
    const item = stack.pop();
    if (typeof item === 'string') {
      parts.push(item);
      size += item.length + 1;
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
    } else if (typeof item === 'object' && item !== null) {
      const members = Object.entries(item).filter(([key]) => !FORM_KEYS.has(key));
      for (let i = members.length - 1; i >= 0; i--)
        stack.push((members[i] as [string, unknown])[1]);
    }
  }
  return parts.join('\n').slice(0, MAX_TEXT);
}

/** Strings in an argument's value, longest first (the most telling match wins). */
function stringsOf(value: unknown): string[] {
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0 && out.length < 64) {
    const item = stack.pop();
    if (typeof item === 'string' && item.length >= 3) out.push(item);
    else if (typeof item === 'number') out.push(String(item));
    else if (Array.isArray(item)) stack.push(...item);
    else if (typeof item === 'object' && item !== null) stack.push(...Object.values(item));
  }
  return out.sort((a, b) => b.length - a.length);
}

export class Excerpts {
  readonly #pages = new Map<string, string>();

  /** A page that entered the context: its text, for later questions. */
  remember(pageId: string, content: unknown): void {
    this.#pages.set(pageId, textOf(content));
    if (this.#pages.size > MAX_PAGES) this.#pages.delete(this.#pages.keys().next().value as string);
  }

  /**
   * Where the value of argument `arg` (`arg:to`, `arg:message.to[0]`) stands in page
   * `pageId`, with some text around it, on one line; null when the page is gone or the
   * value is not there as text (an encoded copy, a shared passage).
   */
  around(pageId: string, arg: string, args: unknown): string | null {
    const page = this.#pages.get(pageId);
    if (page === undefined || typeof args !== 'object' || args === null) return null;
    // Redacted whole, before anything is cut from it (a cut could leave part of a secret
    // that no longer looks like one); here, since questions are rare and pages are not.
    const text = redactSecrets(page);
    const name = arg.replace(/^arg:/, '').split(/[.[]/)[0] as string;
    const value = Object.hasOwn(args, name) ? (args as Record<string, unknown>)[name] : undefined;
    const lower = text.toLowerCase();
    for (const candidate of stringsOf(value)) {
      const at = lower.indexOf(candidate.toLowerCase());
      if (at === -1) continue;
      const start = Math.max(0, at - CONTEXT);
      const end = Math.min(text.length, at + candidate.length + CONTEXT);
      const quoted = text.slice(start, end).replace(/\s+/g, ' ').trim();
      return `${start > 0 ? '…' : ''}${quoted}${end < text.length ? '…' : ''}`;
    }
    return null;
  }
}
