// Exact values in a text, as the value index (values.ts) tracks them: URLs, e-mail
// addresses, paths, long numbers, IP addresses, object ids, IBANs, and in a page the
// command spans it shows (inline code, code-block lines, text after "run:" or a shell
// prompt). Every extractor runs on every text the kernel reads, so each is skipped when a
// character its matches cannot lack is absent (no `@`, no e-mail address), and each regex
// is one module-level object reused with its lastIndex reset (matchAll would copy it on
// every call). None of these regexes matches the empty string, so an exec loop advances.
// Input distrusted: page text and argument values (bounded regexes).

import { canonicalText, normalizeText } from './fingerprints.js';
import { PATH_IN_TEXT } from './lineage.js';

/** A copy of the shared regex: exec loops move lastIndex, the shared one stays at 0. */
const PATHS = new RegExp(PATH_IN_TEXT);
const URL_RE = /\bhttps?:\/\/[^\s"'<>`\\{}|^]{1,4096}/gi;
const EMAIL_RE = /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}\b/g;
const NUMBER_RE = /(?<![\w.])\+?\(?\d[\d ()-]{5,30}\d(?!\w|\.\d)/g;
/** Numbers in dotted groups: `415.555.0134`, `06.12.34.56.78`, `192.168.10.100`. */
const DOTTED_NUMBER_RE = /(?<![\w.])\+?\d{1,4}(?:\.\d{2,4}){2,4}(?![\w.])/g;
const IPV4_RE =
  /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])/g;
const IBAN_RE = /\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b/g;
/** An IBAN written in groups of four: `DE89 3704 0044 0532 0130 00`. */
const SPACED_IBAN_RE = /\b[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?\b/g;
/** A plausible calendar date (19xx or 20xx, month 1-12, day 1-31), either order, - . or /. */
const DATE_RE =
  /^(?:(?:19|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])|(?:0?[1-9]|[12]\d|3[01])[-./](?:0?[1-9]|1[0-2])[-./](?:19|20)\d\d)$/;

const TRAILING_PUNCTUATION = /[.,;:!?)\]]+$/;
const NOT_DIGIT = /\D/g;

/**
 * An object id: a commit or content hash (7-64 lowercase hex digits with a letter and a
 * digit among them, so neither a word nor a number), or a UUID.
 */
const OBJECT_ID_RE =
  /(?<![\w-])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=[0-9a-f]{0,63}[a-f])(?=[0-9a-f]{0,63}\d)[0-9a-f]{7,64})(?![\w-])/g;

/**
 * Gates: what a match of each extractor cannot lack, all found in one pass over the text
 * (one regex scan per gate cost more than the extractors they spare, on prose). An object
 * id: seven hex digits in a row (a UUID starts with eight). A long number: a digit, then
 * joining characters and digits, a digit at least six further on. A dotted number or an
 * IPv4 address: a digit, a dot, a digit. An IBAN: two capitals and two digits.
 */
const HEX_RUN = 1;
const NUMBER_SPAN = 2;
const DIGIT_DOT_DIGIT = 4;
const IBAN_START = 8;

function gates(text: string): number {
  let found = 0;
  let hex = 0; // lowercase hex digits in a row
  let firstDigit = -1; // in the current run of digits and ` ()-`, where its digits start
  let caps = 0; // capitals in a row, then (as -1, -2) digits after two or more of them
  let before = 0; // the code unit before this one, and the one before that
  let before2 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39;
    if (digit) {
      hex += 1;
      if (firstDigit < 0) firstDigit = i;
      else if (i - firstDigit >= 6) found |= NUMBER_SPAN;
      if (before === 0x2e && before2 >= 0x30 && before2 <= 0x39) found |= DIGIT_DOT_DIGIT;
      caps = caps >= 2 ? -1 : caps === -1 ? -2 : 0;
      if (caps === -2) found |= IBAN_START;
    } else {
      hex = c >= 0x61 && c <= 0x66 ? hex + 1 : 0;
      // Joining characters keep a number's run going; anything else ends it.
      if (c !== 0x20 && c !== 0x28 && c !== 0x29 && c !== 0x2d) firstDigit = -1;
      caps = c >= 0x41 && c <= 0x5a ? (caps > 0 ? caps + 1 : 1) : 0;
    }
    if (hex >= 7) found |= HEX_RUN;
    before2 = before;
    before = c;
  }
  return found;
}

const INLINE_CODE_RE = /`([^`\n]{4,300})`/g;
const FENCE_RE = /```[^\n]*\n([\s\S]*?)```/g;
const PROMPT_LINE_RE = /(?:^|\n)[ \t]*[$>#][ \t]+([^\n]{4,300})/g;
/** What a prompt line cannot lack: its prompt character. */
const PROMPT = /[$>#]/;
const RUN_RE = /\b(?:run|execute|type|enter|paste)\s*:\s*([^\n]{4,300})/gi;
const MAX_COMMAND = 300;

function command(text: string): string | null {
  const normalized = normalizeText(text).replace(TRAILING_PUNCTUATION, '');
  return normalized.length >= 4 && normalized.length <= MAX_COMMAND ? `cmd:${normalized}` : null;
}

/** Exact values worth tracking, normalised (case-folded URLs/addresses, digits only). */
export function extractValues(raw: string): Set<string> {
  return valuesIn(canonicalText(raw));
}

/** Numbers (NUMBER_RE, DOTTED_NUMBER_RE) in `text`, as `num:<digits>`, into `out`. */
function numbersIn(re: RegExp, text: string, out: Set<string>): void {
  re.lastIndex = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    if (DATE_RE.test(match[0])) continue; // a date is not an account or phone number
    const digits = match[0].replace(NOT_DIGIT, '');
    if (digits.length >= 7) out.add(`num:${digits}`);
  }
}

/** `re`'s whole matches in `text`, each as `prefix` + `name(match)`, into `out`. */
function eachValue(re: RegExp, text: string, out: Set<string>, name: (m: string) => string) {
  re.lastIndex = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) out.add(name(match[0]));
}

/**
 * extractValues for text already made canonical (canonicalText). `gated` false runs every
 * extractor whatever the gates say (what the tests hold the gates to).
 */
export function valuesIn(text: string, gated = true): Set<string> {
  const out = new Set<string>();
  if (text.includes('://')) {
    URL_RE.lastIndex = 0;
    for (let match = URL_RE.exec(text); match; match = URL_RE.exec(text)) {
      const url = match[0].replace(TRAILING_PUNCTUATION, '');
      if (url.length > 10) out.add(`url:${url.toLowerCase()}`);
    }
  }
  if (text.includes('@')) eachValue(EMAIL_RE, text, out, (m) => `email:${m.toLowerCase()}`);
  if (text.includes('/')) {
    PATHS.lastIndex = 0;
    for (let match = PATHS.exec(text); match; match = PATHS.exec(text)) {
      const path = match[0].replace(TRAILING_PUNCTUATION, '').replace(/^\$HOME/, '~');
      if (path.length > 3 && path.split('/').some((part) => part.length > 1))
        out.add(`path:${path}`);
    }
  }
  const found = gated ? gates(text) : -1;
  if (found & NUMBER_SPAN) numbersIn(NUMBER_RE, text, out);
  if (found & DIGIT_DOT_DIGIT) {
    numbersIn(DOTTED_NUMBER_RE, text, out);
    eachValue(IPV4_RE, text, out, (m) => `ip:${m}`);
  }
  if (found & HEX_RUN) eachValue(OBJECT_ID_RE, text, out, (m) => `id:${m}`);
  if (found & IBAN_START) {
    eachValue(IBAN_RE, text, out, (m) => `iban:${m}`);
    eachValue(SPACED_IBAN_RE, text, out, (m) => `iban:${m.replace(/ /g, '')}`);
  }
  return out;
}

/** The command spans `re` (group 1) finds in `text`, into `out`. */
function commandsIn(re: RegExp, text: string, out: Set<string>): void {
  re.lastIndex = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    const value = command(match[1] as string);
    if (value) out.add(value);
  }
}

/** A page's exact values, with the command spans it shows; `text` is canonical. */
export function pageValues(text: string): Set<string> {
  const out = valuesIn(text);
  const backtick = text.includes('`');
  if (backtick) commandsIn(INLINE_CODE_RE, text, out);
  if (PROMPT.test(text)) commandsIn(PROMPT_LINE_RE, text, out);
  if (text.includes(':')) commandsIn(RUN_RE, text, out);
  if (!backtick) return out;
  FENCE_RE.lastIndex = 0;
  for (let match = FENCE_RE.exec(text); match; match = FENCE_RE.exec(text)) {
    for (const line of (match[1] as string).split('\n')) {
      const value = command(line.replace(/^\s*[$>#]\s+/, ''));
      if (value) out.add(value);
    }
  }
  return out;
}

/** An argument's exact values, with the argument itself as a command; `text` is canonical. */
export function argumentValues(text: string): Set<string> {
  const out = valuesIn(text);
  const whole = command(text);
  if (whole) out.add(whole);
  return out;
}
