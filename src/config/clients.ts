// MCP client configurations: Claude Desktop (claude_desktop_config.json), Claude Code
// (.mcp.json) and Cursor (.cursor/mcp.json) keep their servers under `mcpServers`, VS Code
// (.vscode/mcp.json) under `servers`. This module reads such a document, tells local stdio
// entries from remote ones and from entries that already run AgentK, and builds an entry
// with `agentk mcp-proxy-stdio` in front, or without it again. No files: the command reads
// and writes them. Input distrusted: the whole document (any shape; every refusal names
// where in the file).

import { AgentkError } from '../errors.js';
import { type AgentkLaunch, agentkLaunch, lookalikeNote } from './agentk-entry.js';
import { formatPath } from './document.js';
import { blankJsonc, setCommandLine } from './json-layout.js';

/** The key that holds the servers: `mcpServers` (Claude, Cursor) or `servers` (VS Code). */
export type ClientFormat = 'mcpServers' | 'servers';

export const CLIENT_FORMATS: readonly ClientFormat[] = ['mcpServers', 'servers'];

/** The server-id grammar of `agentk mcp-proxy-stdio --server-id`. */
export const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** An environment variable name `--allow-env` accepts. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

type Json = Record<string, unknown>;

/** How the file was written, so that writing it back changes only what must change. */
interface TextStyle {
  readonly indent: string;
  readonly eol: '\n' | '\r\n';
  readonly finalNewline: boolean;
}

export interface ClientConfig {
  readonly format: ClientFormat;
  /** The parsed document; `servers` is the object under its format's key, in place. */
  readonly document: Json;
  readonly servers: Json;
  readonly style: TextStyle;
  /** The text has comments or trailing commas: it can only be edited in place. */
  readonly jsonc: boolean;
}

/** What one entry is, as far as wrapping goes. */
export type EntryKind =
  /**
   * A local server AgentK can front: its command line and the names its `env` sets; `note`
   * when it looks like AgentK but is not started as AgentK is.
   */
  | {
      readonly kind: 'stdio';
      readonly command: string;
      readonly args: readonly string[];
      readonly envNames: readonly string[];
      readonly note?: string;
    }
  /**
   * Started as `agentk mcp-proxy-stdio` (see agentk-entry.ts): `proxyArgs` are the proxy's
   * own arguments, not yet checked; `envNames` the names its `env` sets.
   */
  | {
      readonly kind: 'proxied';
      readonly launcher: string;
      readonly proxyArgs: readonly string[];
      readonly envNames: readonly string[];
    }
  /** Left as it is, for the reason given. */
  | { readonly kind: 'skipped'; readonly reason: string }
  /** Left as it is, and the run fails: the reason says what to fix by hand. */
  | { readonly kind: 'refused'; readonly reason: string };

function invalid(message: string): AgentkError {
  return new AgentkError('CLIENT_CONFIG_INVALID', message);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function styleOf(text: string): TextStyle {
  return {
    indent: /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ',
    eol: text.includes('\r\n') ? '\r\n' : '\n',
    finalNewline: /\n$/.test(text),
  };
}

function parseJson(json: string, where: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? 'syntax error';
    throw invalid(`${where}: not valid JSON (${reason})`);
  }
}

/**
 * Parse a client configuration. The format is the key present (`mcpServers` or `servers`),
 * or `format` when given; a document with neither, or both and no `format`, is refused.
 */
export function parseClientConfig(
  text: string,
  where: string,
  format?: ClientFormat,
): ClientConfig {
  // Comments and trailing commas (VS Code's JSONC) are read, and kept when it is written.
  const json = blankJsonc(text);
  const document = parseJson(json, where);
  if (!isObject(document)) throw invalid(`${where}: expected a JSON object at the top`);
  const present = CLIENT_FORMATS.filter((key) => key in document);
  let chosen = format;
  if (chosen === undefined) {
    if (present.length === 0) {
      throw invalid(
        `${where}: no "mcpServers" or "servers" key: not an MCP client configuration (Claude Desktop, Claude Code, Cursor, VS Code)`,
      );
    }
    if (present.length > 1) {
      throw invalid(`${where}: has both "mcpServers" and "servers"; say which with --format`);
    }
    chosen = present[0] as ClientFormat;
  }
  const servers = document[chosen];
  if (!isObject(servers)) {
    throw invalid(
      `${where}: "${chosen}" ${servers === undefined ? 'is missing' : 'must be an object'}`,
    );
  }
  return { format: chosen, document, servers, style: styleOf(text), jsonc: json !== text };
}

/** The document a text holds, compactly written, or null if it holds none. */
function reads(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(blankJsonc(text)));
  } catch {
    return null;
  }
}

/**
 * The text of `config` after its entries `names` changed: the original text with only their
 * `command` and `args` edited in place when that gives exactly the document (so comments,
 * layout and every other byte stay), else the whole document written again, indented like
 * the original (`reformatted`). A file with comments that cannot be edited in place is
 * refused rather than stripped of them.
 */
export function editedText(
  original: string,
  config: ClientConfig,
  names: readonly string[],
  where: string,
): { readonly text: string; readonly reformatted: boolean } {
  let text: string | null = original;
  for (const name of names) {
    const entry = config.servers[name] as Json;
    const args = (entry.args as string[] | undefined) ?? [];
    const path = [config.format, name];
    text = text && setCommandLine(text, path, entry.command as string, args, config.style.indent);
  }
  if (text !== null && reads(text) === JSON.stringify(config.document)) {
    return { text, reformatted: false };
  }
  if (config.jsonc) {
    throw invalid(
      `${where}: cannot change it without losing a comment (inside a changed "args"?); edit it by hand`,
    );
  }
  return { text: serializeClientConfig(config), reformatted: true };
}

/** The document as text again, in the indentation and line endings it was read with. */
export function serializeClientConfig(config: ClientConfig): string {
  const { indent, eol, finalNewline } = config.style;
  const text = JSON.stringify(config.document, null, indent) + (finalNewline ? '\n' : '');
  return eol === '\n' ? text : text.replaceAll('\n', eol);
}

function remoteReason(entry: Json): string | null {
  if ('url' in entry) {
    return 'a remote server (url): wrap leaves these; put AgentK in front by hand with agentk mcp-proxy-stdio --url (docs/mcp-proxy.md, "Remote servers")';
  }
  const type = entry.type;
  if (type === undefined || type === 'stdio') return null;
  return `a server of type ${JSON.stringify(String(type)).slice(0, 40)}: the stdio proxy fronts only stdio servers`;
}

function stringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Classify one entry; a local entry that cannot be run as written is refused. */
export function entryKind(config: ClientConfig, name: string, where: string): EntryKind {
  const entry = config.servers[name];
  const at = `${where}: ${formatPath([config.format, name])}`;
  if (!isObject(entry)) throw invalid(`${at} must be an object`);
  const remote = remoteReason(entry);
  if (remote !== null) return { kind: 'skipped', reason: remote };
  const { command, args = [], env = {} } = entry;
  if (typeof command !== 'string' || command === '') {
    throw invalid(`${at} has no "command" (a non-empty string) and no "url"`);
  }
  if (!stringArray(args)) throw invalid(`${at}.args must be an array of strings`);
  if (!isObject(env)) throw invalid(`${at}.env must be an object`);
  const envNames = Object.keys(env);
  // A key is the user's, but never echoed: it may be a pasted NAME=value. Node writes a
  // child's env as key=value, so `NODE_OPTIONS=… x` would set NODE_OPTIONS: every key is
  // checked, whatever the entry is.
  const badKey = envNames.findIndex((key) => !ENV_NAME.test(key));
  if (badKey >= 0) {
    return {
      kind: 'refused',
      reason: `env key #${badKey + 1} is not a variable name (A-Z a-z 0-9 _): a client would set what it spells out; fix it by hand`,
    };
  }
  const launch = launchOf(entry, command, args, envNames, where);
  if (launch?.launcher.startsWith('npx')) {
    const npm = envNames.find((key) => /^npm_config_/i.test(key));
    if (npm !== undefined) {
      return {
        kind: 'refused',
        reason: `runs AgentK through npx, but its env sets ${npm}, which tells npx where and what to fetch; remove it, or wrap with --launcher node`,
      };
    }
  }
  if (launch?.subcommand === 'mcp-proxy-stdio') {
    return {
      kind: 'proxied',
      launcher: launch.launcher,
      proxyArgs: args.slice(launch.argsStart),
      envNames,
    };
  }
  if (launch !== null) {
    return {
      kind: 'skipped',
      reason: `runs AgentK itself (${`${launch.launcher} ${launch.subcommand}`.trim()})`,
    };
  }
  if ('envFile' in entry) {
    return {
      kind: 'skipped',
      reason:
        'has an envFile: the names it sets are not known here, so the proxy could not pass them',
    };
  }
  const note = lookalikeNote(command, args);
  return { kind: 'stdio', command, args, envNames, ...(note !== null ? { note } : {}) };
}

/**
 * How the entry starts AgentK, or null. An entry whose env is not all known (an envFile) or
 * that finds its launcher on a PATH of its own (`agentk`, `npx`, `node` in its env) cannot be
 * taken for AgentK: the launcher is whatever that env finds.
 */
function launchOf(
  entry: Json,
  command: string,
  args: readonly string[],
  envNames: readonly string[],
  where: string,
): AgentkLaunch | null {
  if ('envFile' in entry) return null;
  const ownPath = !/[\\/]/.test(command) && envNames.some((key) => key.toUpperCase() === 'PATH');
  return ownPath ? null : agentkLaunch(command, args, where);
}

/** The server id for an entry name: the name made to fit the grammar, unique (case aside). */
export function serverIdFor(name: string, taken: ReadonlySet<string>): string {
  const base =
    name
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 64) || 'server';
  let id = base;
  for (let n = 2; taken.has(id.toLowerCase()); n++) {
    const suffix = `-${n}`;
    id = `${base.slice(0, 64 - suffix.length)}${suffix}`;
  }
  return id;
}

/** How the wrapped entry starts AgentK: a command and the arguments before the subcommand. */
export interface Launcher {
  readonly command: string;
  readonly prefix: readonly string[];
}

export interface WrapOptions {
  readonly launcher: Launcher;
  readonly serverId: string;
  readonly policy?: string;
  /** Run the server under the proxy's sandbox (`--sandbox`). */
  readonly sandbox?: boolean;
}

/**
 * The entry with only `command` and `args` replaced, every other field (env, type, cwd,
 * unknown ones) as it was and in its place; `args` goes right after `command` when the
 * entry had none (and is dropped again when empty).
 */
function withCommandLine(entry: Json, command: string, args: readonly string[]): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'command') {
      out.command = command;
      if (!('args' in entry) && args.length > 0) out.args = [...args];
    } else if (key === 'args') {
      if (args.length > 0) out.args = [...args];
    } else {
      // Defined, not assigned: a field named __proto__ stays a field.
      Object.defineProperty(out, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return out;
}

/**
 * The entry behind AgentK: the proxy with the entry's server id, every `env` name passed
 * through (the client sets them on AgentK's process; the proxy passes only those named),
 * and the original command line after `--`, from which `unwrapEntry` restores it exactly.
 */
export function wrapEntry(
  entry: Json,
  stdio: Extract<EntryKind, { kind: 'stdio' }>,
  options: WrapOptions,
): Json {
  const args = [
    ...options.launcher.prefix,
    'mcp-proxy-stdio',
    '--server-id',
    options.serverId,
    ...stdio.envNames.flatMap((name) => ['--allow-env', name]),
    ...(options.policy !== undefined ? ['--policy', options.policy] : []),
    ...(options.sandbox === true ? ['--sandbox'] : []),
    '--',
    stdio.command,
    ...stdio.args,
  ];
  return withCommandLine(entry, options.launcher.command, args);
}

/**
 * An entry already behind AgentK with `--allow-env` added, right after the subcommand, for
 * each of `names`: names of its env the proxy was not given (added after it was wrapped),
 * which the server would otherwise never see, since the proxy passes only those named.
 */
export function passEnvEntry(
  entry: Json,
  proxied: Extract<EntryKind, { kind: 'proxied' }>,
  names: readonly string[],
): Json {
  const args = entry.args as string[];
  const start = args.length - proxied.proxyArgs.length;
  const passed = names.flatMap((name) => ['--allow-env', name]);
  return withCommandLine(entry, entry.command as string, [
    ...args.slice(0, start),
    ...passed,
    ...args.slice(start),
  ]);
}

/**
 * The entry without AgentK: the server's own command line (as the proxy would start it)
 * back in `command` and `args`; an entry whose server had no arguments gets no `args`.
 */
export function unwrapEntry(
  entry: Json,
  server: { readonly command: string; readonly args: readonly string[] },
): Json {
  return withCommandLine(entry, server.command, server.args);
}
