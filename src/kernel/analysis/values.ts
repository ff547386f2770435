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
import { hostOf, visitUrls } from './arguments.js';

/** Where relative paths and `${workspace}` point: known of the session, not of the call. */
export interface Workspace {
  /** The workspace roots (the server's directories, the client's roots). */
  readonly roots: readonly string[];
  /** The server's working directory, which relative paths are resolved against. */
  readonly cwd: string | null;
}

const words = (list: string) => new Set(list.split(' '));
const PATH_WORDS = words(
  'path paths file files filename filepath pathname dir directory folder source src ' +
    'destination dest dst target output out cwd root',
);
const URL_WORDS = words('url uri urls uris link links href endpoint webhook');
const RECIPIENT_WORDS = words(
  'to cc bcc recipient recipients email emails address addresses attendee attendees invitee ' +
    'invitees participant participants member members contact contacts payee beneficiary',
);
const AMOUNT_WORDS = words('amount amounts price total cost fee sum');
/** Keys whose values are carried text, not something the call acts on. */
const CONTENT_WORDS = words(
  'body content contents text message description summary comment note notes title subject ' +
    'html markdown caption reply answer prompt query question data',
);

type Roles = Readonly<Record<'path' | 'url' | 'recipient' | 'amount', boolean>>;
const NO_ROLES: Roles = { path: false, url: false, recipient: false, amount: false };

/**
 * The roles a key gives what lies under it: its own role words, or none when it names
 * carried text (`content`: nothing under it is scanned), or (a key that says neither) the
 * roles above it.
 */
function rolesOf(key: string, parent: Roles): { roles: Roles; content: boolean } {
  const named = nameWords(key);
  const is = (set: ReadonlySet<string>) => named.some((word) => set.has(word));
  const roles = {
    path: is(PATH_WORDS),
    url: is(URL_WORDS),
    recipient: is(RECIPIENT_WORDS),
    amount: is(AMOUNT_WORDS),
  };
  if (roles.path || roles.url || roles.recipient || roles.amount) return { roles, content: false };
  const content = named.length > 0 && named.every((word) => CONTENT_WORDS.has(word));
  return content ? { roles: NO_ROLES, content } : { roles: parent, content };
}

const SCHEME_URL = /^[a-z][a-z0-9+.-]{0,31}:\/\//i;
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}/g;
/** One address, alone or as `Name <address>`, as a recipient argument's whole entry. */
const WHOLE_EMAIL =
  /^\s*(?:[^<>@,;]*<)?([A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24})>?\s*$/;
const NUMBER = /^[+-]?(?:\d{1,3}(?:[,_]\d{3})+|\d+)(?:\.\d+)?$/;
/** A word of a command that names a file: it has a slash, or starts with `.` or `~`. */
const COMMAND_PATH = /(?:^|[\s;&|<>()'"`=])((?:\.{1,2}|~)?[\w.@%+-]*\/[^\s;&|<>()'"`]*|\.[\w.-]+)/g;

/** Values of one role read from one call, at most (beyond: the role is unknown). */
const MAX_VALUES = 256;
/** Leaves of one argument looked at, at most (beyond: every role is unknown). */
const MAX_LEAVES = 1024;
/** Values of one role kept in the flight log, at most (beyond: recorded as unknown). */
const MAX_RECORDED = 64;
/** Characters of a path read (a longer one is unknown): matching stays cheap. */
const MAX_PATH = 4096;

const HOME = homedir().replace(/\/+$/, '');

/** A normalised absolute path without a trailing slash. */
export function normalPath(path: string): string {
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
    if (raw.length > MAX_PATH || raw.includes('\0') || (home > 0 && HOME === ''))
      this.#unknown.add('paths');
    else if (home > 0) this.#add('paths', normalPath(HOME + raw.slice(home)));
    else if (raw.startsWith('/')) this.#add('paths', normalPath(raw));
    else if (cwd !== null) this.#add('paths', normalPath(posix.resolve(cwd, raw)));
    else this.#unknown.add('paths');
  }

  /**
   * The URLs in a text: their hosts (file URLs: their paths). Whether it held one. A URL
   * runs to the next whitespace, as a WHATWG parser reads it (quotes and `<>` inside are
   * userinfo: `https://corp.example'@evil.com` goes to evil.com); where parsers disagree
   * (a backslash), the host is unknown.
   */
  urls(text: string): boolean {
    let found = false;
    const read = visitUrls(text, MAX_VALUES, (url) => {
      if (url.protocol === 'file:') {
        try {
          this.path(fileURLToPath(url));
        } catch {
          this.#unknown.add('paths');
        }
        found = true;
      } else if (url.hostname !== '') {
        this.#add('hosts', hostOf(url));
        found = true;
      }
    });
    if (read.overflow || read.ambiguous) this.#unknown.add('hosts');
    return found || read.overflow;
  }

  /**
   * An argument: every text and number in it read by the role its own key, or the nearest
   * key above it that says one, gives (`ops[0].path` is a path whatever `ops` is called).
   * In a control argument, URLs, addresses and absolute paths anywhere in its text count
   * too (not under a key that names carried text); in a content argument, only what a
   * role-named key holds. An exec's arguments are commands: the files their words name
   * are read, and paths and hosts are unknown beyond that (a shell can reach anything).
   */
  argument(name: string, value: unknown, control: boolean, exec = false): void {
    const stack: [unknown, Roles, boolean][] = [[value, rolesOf(name, NO_ROLES).roles, control]];
    if (exec) {
      this.#unknown.add('paths');
      this.#unknown.add('hosts');
    }
    for (let seen = 0; stack.length > 0; seen++) {
      if (seen >= MAX_LEAVES) {
        for (const role of VALUE_ROLES) this.#unknown.add(role);
        return;
      }
      const [item, roles, scan] = stack.pop() as [unknown, Roles, boolean];
      if (Array.isArray(item)) {
        for (const member of item) stack.push([member, roles, scan]);
      } else if (typeof item === 'object' && item !== null) {
        for (const [key, member] of Object.entries(item)) {
          const own = rolesOf(key, roles);
          stack.push([member, own.roles, scan && !own.content]);
        }
      } else if (typeof item === 'string') this.#text(item, roles, scan, exec);
      else if (typeof item === 'number' && roles.amount) this.#amount(item);
    }
  }

  #text(text: string, roles: Roles, scan: boolean, exec: boolean): void {
    if (scan || roles.url) {
      const hadUrl = this.urls(text);
      if (roles.url && !hadUrl) this.#unknown.add('hosts');
    }
    if (roles.recipient) this.#recipients(text);
    else if (scan)
      for (const match of text.matchAll(EMAIL)) this.#add('recipients', match[0].toLowerCase());
    if (roles.path && !SCHEME_URL.test(text)) this.path(text);
    if (scan || roles.path) for (const match of text.matchAll(PATH_IN_TEXT)) this.path(match[0]);
    if (exec) for (const match of text.matchAll(COMMAND_PATH)) this.path(match[1] as string);
    if (roles.amount) {
      const trimmed = text.trim();
      this.#amount(NUMBER.test(trimmed) ? Number(trimmed.replace(/[,_]/g, '')) : Number.NaN);
    }
  }

  /** A recipient argument: each entry (split at `,` and `;`) must be one whole address. */
  #recipients(text: string): void {
    for (const entry of text.split(/[,;]/)) {
      if (entry.trim() === '') continue;
      const address = WHOLE_EMAIL.exec(entry)?.[1];
      if (address === undefined) this.#unknown.add('recipients');
      else this.#add('recipients', address.toLowerCase());
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
    // Members named, not spread: a spread then more members builds a new hidden class per call.
    const { paths, hosts, recipients } = this.#values;
    return {
      paths,
      hosts,
      recipients,
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
    // Cut short (too many, or one clipped): a fork cannot be sure of this role.
    if (list.length > MAX_RECORDED || list.some((value) => value.length > 512)) unknown.add(role);
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
  const root = normalPath(dir);
  if (root.split('/').filter((part) => part.length > 0).length < 2) return null;
  if (HOME !== '' && `${HOME}/`.startsWith(`${root}/`)) return null;
  return root;
}

/**
 * The protected path (AgentK's state, policy or keys) one of `paths` lies in or is (or,
 * for a call that `changes` files, lies above), or null. Paths are compared as normalised text: a symbolic link that leads there from
 * elsewhere is the sandbox's to stop.
 */
export function protectedHit(
  paths: readonly string[],
  protectedPaths: readonly string[],
  changes: boolean,
): string | null {
  for (const path of paths) {
    for (const root of protectedPaths) {
      if (path === root || path.startsWith(root === '/' ? '/' : `${root}/`)) return root;
      // Moving or deleting a directory above it moves or deletes it too.
      if (changes && root.startsWith(path === '/' ? '/' : `${path}/`)) return root;
    }
  }
  return null;
}
