// Argument values by role, for rules that see arguments (policy/values.ts): the paths a
// call touches, the hosts its URLs name, the addresses it sends to, the amounts it moves,
// and the arguments a rule names. Read from control arguments only (content is carried,
// not acted on), over-inclusively: a value a rule cannot be sure of is `unknown`, which a
// rule that allows never matches and a rule that denies or asks always does.
// Input distrusted: argument names and values, chosen by a possibly hijacked agent.

import { homedir } from 'node:os';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nameWords } from '../../policy/sinks.js';
import { type ArgumentValues, VALUE_ROLES, type ValueRole } from '../../policy/values.js';
import { PATH_IN_TEXT } from '../../provenance/lineage.js';
import { loggable } from '../loggable.js';

/** Where relative paths and `${workspace}` point: known of the session, not of the call. */
export interface Workspace {
  /** The workspace roots (the server's directories, the client's roots). */
  readonly roots: readonly string[];
  /** The server's working directory, which relative paths are resolved against. */
  readonly cwd: string | null;
}

const words = (list: string) => new Set(list.split(' '));
const PATH_WORDS = words(
  'path paths file files filename filepath dir directory folder source destination dest location cwd root',
);
const URL_WORDS = words('url uri urls uris link links href endpoint webhook');
const RECIPIENT_WORDS = words(
  'to cc bcc recipient recipients email emails address addresses attendee attendees invitee ' +
    'invitees participant participants member members contact contacts payee beneficiary',
);
const AMOUNT_WORDS = words('amount amounts price total cost');

/** Where a URL may start: a scheme (lenient forms such as `http:host` included) or `//`. */
const URL_START = /(?:[a-z][a-z0-9+.-]{0,31}:|\/\/)[^\s"'<>`]{1,4096}/gi;
const SCHEME_URL = /^[a-z][a-z0-9+.-]{0,31}:\/\//i;
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}/g;
const NUMBER = /^[+-]?(?:\d{1,3}(?:[,_]\d{3})+|\d+)(?:\.\d+)?$/;

/** Values of one role read from one call, at most (beyond: the role is unknown). */
const MAX_VALUES = 256;
/** Leaves of one argument looked at, at most (beyond: every role is unknown). */
const MAX_LEAVES = 1024;
/** Values of one role kept in the flight log, at most (beyond: recorded as unknown). */
const MAX_RECORDED = 32;

const HOME = homedir().replace(/\/+$/, '');

/** A normalised absolute path without a trailing slash. */
function normal(path: string): string {
  const normalised = posix.normalize(path);
  return normalised.length > 1 ? normalised.replace(/\/+$/, '') : normalised;
}

/** Reads one call's argument values; `result()` gives them. */
export class ValueReader {
  readonly #values = { paths: [] as string[], hosts: [] as string[], recipients: [] as string[] };
  readonly #amounts: number[] = [];
  readonly #arguments: Record<string, string[] | null> = {};
  readonly #unknown = new Set<ValueRole>();
  readonly #workspace: Workspace;

  constructor(workspace: Workspace) {
    this.#workspace = workspace;
  }

  #add(role: 'paths' | 'hosts' | 'recipients', value: string): void {
    const list = this.#values[role];
    if (list.length >= MAX_VALUES) this.#unknown.add(role);
    else if (!list.includes(value)) list.push(value);
  }

  /** A path as the server would resolve it. */
  path(raw: string): void {
    const home = raw === '~' || raw.startsWith('~/') ? 1 : raw.startsWith('$HOME/') ? 5 : 0;
    const { cwd } = this.#workspace;
    if (raw === '' || raw.includes('\0') || (home > 0 && HOME === '')) this.#unknown.add('paths');
    else if (home > 0) this.#add('paths', normal(HOME + raw.slice(home)));
    else if (raw.startsWith('/')) this.#add('paths', normal(raw));
    else if (cwd !== null) this.#add('paths', normal(posix.resolve(cwd, raw)));
    else this.#unknown.add('paths');
  }

  /** The URLs in a text: their hosts (file URLs: their paths). Whether it held one. */
  urls(text: string): boolean {
    let found = false;
    let seen = 0;
    for (const match of text.replace(/[\t\n\r]/g, '').matchAll(URL_START)) {
      if (++seen > MAX_VALUES) {
        this.#unknown.add('hosts');
        return true;
      }
      let url: URL;
      try {
        url = new URL(match[0].startsWith('//') ? `http:${match[0]}` : match[0]);
      } catch {
        continue;
      }
      if (url.protocol === 'file:') {
        try {
          this.path(fileURLToPath(url));
          found = true;
        } catch {
          this.#unknown.add('paths');
        }
      } else if (url.hostname !== '') {
        this.#add('hosts', url.hostname.toLowerCase().replace(/^\[|\]$/g, ''));
        found = true;
      }
    }
    return found;
  }

  /** A control argument: every text and number in it, read by the role its name gives. */
  control(name: string, value: unknown): void {
    const named = new Set(nameWords(name));
    const is = (set: ReadonlySet<string>) => [...named].some((word) => set.has(word));
    const roles = {
      path: is(PATH_WORDS),
      url: is(URL_WORDS),
      recipient: is(RECIPIENT_WORDS),
      amount: is(AMOUNT_WORDS),
    };
    const leaves: unknown[] = [value];
    for (let seen = 0; leaves.length > 0; seen++) {
      if (seen >= MAX_LEAVES) {
        for (const role of VALUE_ROLES) this.#unknown.add(role);
        return;
      }
      const leaf = leaves.pop();
      if (Array.isArray(leaf)) leaves.push(...leaf);
      else if (typeof leaf === 'object' && leaf !== null) leaves.push(...Object.values(leaf));
      else if (typeof leaf === 'string') this.#text(leaf, roles);
      else if (typeof leaf === 'number' && roles.amount) this.#amount(leaf);
    }
  }

  #text(text: string, roles: Record<'path' | 'url' | 'recipient' | 'amount', boolean>): void {
    const hadUrl = this.urls(text);
    if (roles.url && !hadUrl) this.#unknown.add('hosts');
    let addresses = 0;
    for (const match of text.matchAll(EMAIL)) {
      addresses++;
      this.#add('recipients', match[0].toLowerCase());
    }
    if (roles.recipient && addresses === 0) this.#unknown.add('recipients');
    if (roles.path && !SCHEME_URL.test(text)) this.path(text);
    else for (const match of text.matchAll(PATH_IN_TEXT)) this.path(match[0]);
    if (roles.amount) {
      const trimmed = text.trim();
      this.#amount(NUMBER.test(trimmed) ? Number(trimmed.replace(/[,_]/g, '')) : Number.NaN);
    }
  }

  #amount(amount: number): void {
    if (!Number.isFinite(amount) || this.#amounts.length >= MAX_VALUES)
      this.#unknown.add('amounts');
    else this.#amounts.push(amount);
  }

  /** The arguments a rule names, as text (null: not a plain value or list of them). */
  named(args: Readonly<Record<string, unknown>>, names: readonly string[]): void {
    for (const name of names) {
      const value = Object.hasOwn(args, name) ? args[name] : undefined;
      // Recorded as absent, so that a fork can tell "not given" from "not read".
      if (value === undefined) {
        this.#arguments[name] = [];
        continue;
      }
      const list = Array.isArray(value) ? value : [value];
      const plain = list.length <= MAX_RECORDED && list.every((item) => isPlain(item));
      this.#arguments[name] = plain ? list.map((item) => String(item)) : null;
    }
  }

  result(): ArgumentValues {
    return {
      ...this.#values,
      amounts: this.#amounts,
      arguments: this.#arguments,
      unknown: [...this.#unknown].sort(),
      workspace: this.#workspace.roots,
    };
  }
}

function isPlain(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * The values as the flight log keeps them (`detail.values`): what fork-replay matches
 * another policy's conditions against. Bounded; a role cut short is recorded as unknown.
 */
export function recordedValues(
  values: ArgumentValues,
  scrub: (text: string) => string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const unknown = new Set(values.unknown);
  const text = (value: string) => scrub(loggable(value, 512));
  for (const role of ['paths', 'hosts', 'recipients'] as const) {
    const list = values[role];
    if (list.length > MAX_RECORDED) unknown.add(role);
    if (list.length > 0) out[role] = list.slice(0, MAX_RECORDED).map(text);
  }
  if (values.amounts.length > MAX_RECORDED) unknown.add('amounts');
  if (values.amounts.length > 0) out.amounts = values.amounts.slice(0, MAX_RECORDED);
  const named = Object.entries(values.arguments);
  if (named.length > 0) {
    out.arguments = Object.fromEntries(
      named.map(([name, list]) => [name, list === null ? null : list.map(text)]),
    );
  }
  if (unknown.size > 0) out.unknown = [...unknown].sort();
  if (values.paths.length > 0 && values.workspace.length > 0) {
    out.workspace = values.workspace.map(text);
  }
  return out;
}

/**
 * A directory as a workspace root (normalised), or null when it cannot be one: not
 * absolute, fewer than two components, or the home directory or above it (which would make
 * `${workspace}/**` cover the user's whole home).
 */
export function workspaceRoot(dir: string): string | null {
  if (!dir.startsWith('/') || dir.includes('\0')) return null;
  const root = normal(dir);
  if (root.split('/').filter((part) => part.length > 0).length < 2) return null;
  if (HOME !== '' && `${HOME}/`.startsWith(`${root}/`)) return null;
  return root;
}

/**
 * The protected path (AgentK's state, policy or keys) one of `paths` lies in or is, or
 * null. Paths are compared as normalised text: a symbolic link that leads there from
 * elsewhere is the sandbox's to stop.
 */
export function protectedHit(
  paths: readonly string[],
  protectedPaths: readonly string[],
): string | null {
  for (const path of paths) {
    for (const root of protectedPaths) {
      if (path === root || path.startsWith(root === '/' ? '/' : `${root}/`)) return root;
    }
  }
  return null;
}
