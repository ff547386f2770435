// Argument roles: which arguments of a call steer it (control: a URL, a recipient, a path,
// a command, an amount) and which it only carries (content: a body, a summary). The flow
// rules treat them differently (protection-model.md, rule 1), so this is where a new
// kind of destination is taught to the kernel. Also: which control values name a remote
// host, making the call egress whatever its name says.
// Input distrusted: argument names and values, all chosen by a possibly hijacked agent.

import { nameWords } from '../../policy/sinks.js';
import { decodeBudget, decodedForms, extractValues } from '../../provenance/values.js';
import { argRef } from '../loggable.js';

const CONTENT_ARGUMENTS = new Set(
  (
    'body content text message msg description summary comment note notes title subject html ' +
    'markdown md caption reply answer prompt query q question data value values'
  ).split(' '),
);
const CONTROL_ARGUMENTS = new Set(
  (
    'url uri urls link href path paths file files filename filepath dir directory folder to cc ' +
    'bcc recipient recipients email emails address addresses phone number account iban command ' +
    'cmd script code exec program args argv host hostname domain server endpoint dest ' +
    'destination target repo repository branch remote channel user username amount currency ' +
    'method webhook chat room conversation thread space group contact contacts member members ' +
    'participant participants attendee attendees invitee invitees payee beneficiary assignee ' +
    'assignees reviewer reviewers owner'
  ).split(' '),
);

function isControlName(name: string): boolean {
  return nameWords(name).some((word) => CONTROL_ARGUMENTS.has(word));
}

/**
 * Whether a tool argument is a control argument rather than content carried along. By its
 * name, and when the name says nothing, by whether its value's text (textOf; null when it
 * cannot be scanned) holds a control-shaped value (a URL, address, path or number).
 */
export function isControlArgument(name: string, text: string | null): boolean {
  if (isControlName(name)) return true;
  const words = nameWords(name);
  if (words.length > 0 && words.every((word) => CONTENT_ARGUMENTS.has(word))) return false;
  if (text === null || extractValues(text).size > 0) return true;
  // An encoded value (a base64 raw mail with its Bcc header) is judged by what it says.
  return decodedForms(text, decodeBudget()).forms.some((form) => extractValues(form).size > 0);
}

/** Members of one structured argument that are checked as control values, at most. */
const MAX_NESTED_CONTROL = 256;

/**
 * The members inside a structured argument whose own name says they steer (a Graph-style
 * `message.toRecipients[0].emailAddress.address`, a `personalizations[].to`), with their
 * paths: a recipient is a recipient however deep it sits. Null when there are more than
 * MAX_NESTED_CONTROL (the caller then treats the whole argument as control).
 */
export function nestedControlValues(name: string, value: unknown): [string, unknown][] | null {
  const out: [string, unknown][] = [];
  const stack: [string, unknown][] = [[name, value]];
  while (stack.length > 0) {
    const [path, item] = stack.pop() as [string, unknown];
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) stack.push([`${path}[${i}]`, item[i]]);
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, child] of Object.entries(item)) {
        const at = `${path}.${argRef(key)}`;
        if (!isControlName(key)) stack.push([at, child]);
        else if (out.push([at, child]) > MAX_NESTED_CONTROL) return null;
      }
    }
  }
  return out;
}

/**
 * Where a URL may start: a scheme (lenient forms such as `http:host` included) or `//`; it
 * runs to the next whitespace, as a WHATWG parser reads it (quotes and `<>` inside are
 * userinfo, `http://localhost'@evil.com` goes to evil.com).
 */
const URL_START = /(?:[a-z][a-z0-9+.-]{0,31}:|\/\/)\S{1,4096}/gi;
/** URL candidates looked at in one value, at most (beyond: counted as remote, fail closed). */
const MAX_URL_CANDIDATES = 1024;
const SCHEME_URL = /^[a-z][a-z0-9+.-]{0,31}:\/\//i;

/**
 * Every URL in a text, as a WHATWG URL parser (which browsers, Node's fetch and most HTTP
 * clients follow) reads it, to the next whitespace, and as a reader that stops at a quote
 * does (either reading may be the one that acts): `visit` gets each. `overflow`: more than
 * `limit` candidates, the rest unread; `ambiguous`: a URL parsers read differently (a
 * backslash), so what it names cannot be known.
 */
export function visitUrls(
  raw: string,
  limit: number,
  visit: (url: URL) => void,
): { overflow: boolean; ambiguous: boolean } {
  let seen = 0;
  let ambiguous = false;
  for (const match of raw.replace(/[\t\n\r]/g, '').matchAll(URL_START)) {
    if (++seen > limit) return { overflow: true, ambiguous };
    const found = match[0];
    if (found.includes('\\') && SCHEME_URL.test(found)) ambiguous = true;
    const cut = found.split(/['"`<>]/)[0] as string;
    for (const candidate of cut === found || cut.length < 3 ? [found] : [found, cut]) {
      try {
        visit(new URL(candidate.startsWith('//') ? `http:${candidate}` : candidate));
      } catch {
        // not a URL
      }
    }
  }
  return { overflow: false, ambiguous };
}

/** A URL's host as rules and the egress check compare it: lower-case, no brackets or final dot. */
export function hostOf(url: URL): string {
  return url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '');
}

/**
 * Whether a text names a remote host as a URL (visitUrls): any scheme with a host,
 * userinfo, `http:\\host`, tabs or newlines inside; not localhost or a loopback address.
 */
export function namesRemoteHost(raw: string): boolean {
  let remote = false;
  const read = visitUrls(raw, MAX_URL_CANDIDATES, (url) => {
    const host = hostOf(url);
    if (host === '' || host === 'localhost' || host === '::1') return;
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) remote = true;
  });
  return remote || read.overflow || read.ambiguous;
}
