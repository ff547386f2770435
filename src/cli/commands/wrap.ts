// `agentk wrap` and `agentk unwrap`: put `agentk mcp-proxy-stdio` in front of every local
// server of an MCP client's configuration (Claude Desktop, Claude Code, Cursor, VS Code),
// and take it out again. The formats are in config/clients.ts, the safe rewrite (backup,
// temporary file, rename) in config/user-file.ts; this file plans, shows and writes.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kernelEnvReason } from '../../config/agentk-entry.js';
import {
  CLIENT_FORMATS,
  type ClientConfig,
  type ClientFormat,
  type EntryKind,
  editedText,
  entryKind,
  type Launcher,
  parseClientConfig,
  passEnvEntry,
  serverIdFor,
  unwrapEntry,
  wrapEntry,
} from '../../config/clients.js';
import { formatPath, readConfigText } from '../../config/document.js';
import { redactMembers } from '../../config/json-layout.js';
import { replaceWithBackup } from '../../config/user-file.js';
import { PACKAGE_ROOT } from '../../paths.js';
import { loadPolicyFile } from '../../policy/load.js';
import { redactSecrets } from '../../provenance/detect.js';
import {
  type Command,
  flag,
  json,
  type ParsedArgs,
  parseCommandArgs,
  stringOption,
  usageError,
} from '../command.js';
import { type CliIo, EXIT, type ExitCode, printable, table } from '../io.js';
import { unifiedDiff } from '../line-diff.js';
import type { ProxyConfig } from '../proxy-places.js';
import { mcpProxyStdioCommand, proxyConfig } from './mcp-proxy-stdio.js';

type Mode = 'wrap' | 'unwrap';

/** Claude Code's ~/.claude.json keeps each project's history beside its mcpServers. */
const MAX_CLIENT_CONFIG_BYTES = 16 * 1024 * 1024;

/** What happened to one entry; `refused` ones are left as they are, and fail the run. */
interface EntryResult {
  readonly name: string;
  readonly action:
    | 'wrapped'
    | 'unwrapped'
    | 'already-wrapped'
    | 'env-passed'
    | 'not-wrapped'
    | 'skipped'
    | 'refused';
  readonly server_id?: string;
  readonly allow_env?: readonly string[];
  readonly reason?: string;
  readonly note?: string;
}

type Proxied = Extract<EntryKind, { kind: 'proxied' }>;

/**
 * What a proxied entry's proxy would start, by the proxy's own parser, or why it would
 * refuse to: an entry is behind AgentK only if the proxy would run it.
 */
function proxiedServer(kind: Proxied): ProxyConfig | string {
  try {
    return proxyConfig(parseCommandArgs(mcpProxyStdioCommand, kind.proxyArgs));
  } catch (error) {
    return `runs ${kind.launcher} mcp-proxy-stdio with arguments the proxy refuses (${(error as Error).message}); edit it by hand`;
  }
}

/**
 * The names in `env` that would configure AgentK's own process, each with why, as one
 * reason; null when there are none. The client sets an entry's env on the process it
 * starts, which is AgentK once the entry is wrapped.
 */
function kernelEnv(envNames: readonly string[]): string | null {
  const found = envNames.flatMap((name) => {
    const why = kernelEnvReason(name);
    return why === null ? [] : [`${name} (${why})`];
  });
  if (found.length === 0) return null;
  return `its env sets ${found.join(', ')}: the client sets env on AgentK's own process, so it would configure AgentK, not only the server; remove it from env to wrap this entry`;
}

/** Where Claude Desktop keeps its configuration on this platform. */
export function claudeDesktopConfig(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform = process.platform,
): string | null {
  const home = env.HOME || env.USERPROFILE;
  if (platform === 'win32') {
    return env.APPDATA ? join(env.APPDATA, 'Claude', 'claude_desktop_config.json') : null;
  }
  if (home === undefined || home === '') return null;
  if (platform === 'darwin') {
    return join(home, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json');
  }
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'Claude', 'claude_desktop_config.json');
}

/** The file named, else Claude Desktop's, if it exists; else a usage error naming the places. */
function configPath(args: ParsedArgs, io: CliIo): string {
  const given = args.positionals[0];
  if (given !== undefined) return resolve(io.cwd, given);
  const desktop = claudeDesktopConfig(io.env);
  if (desktop !== null && existsSync(desktop)) return desktop;
  throw usageError(
    `name the configuration file: Claude Desktop's (${desktop ?? 'unknown here'}) does not exist; others are <project>/.mcp.json (Claude Code), .cursor/mcp.json (Cursor), .vscode/mcp.json (VS Code)`,
  );
}

function formatOption(args: ParsedArgs): ClientFormat | undefined {
  const format = stringOption(args, 'format');
  if (format === undefined) return undefined;
  if (!(CLIENT_FORMATS as readonly string[]).includes(format)) {
    throw usageError(
      '--format must be mcpServers (Claude Desktop, Claude Code, Cursor) or servers (VS Code)',
    );
  }
  return format as ClientFormat;
}

/** The entries to work on: all, or those named by --server (each must exist). */
function selected(args: ParsedArgs, config: ClientConfig, where: string): string[] {
  const names = [...new Set((args.values.server as string[] | undefined) ?? [])];
  for (const name of names) {
    if (!Object.hasOwn(config.servers, name)) {
      throw usageError(
        `${where}: no server named ${JSON.stringify(name)} under "${config.format}"`,
      );
    }
  }
  return names.length === 0 ? Object.keys(config.servers) : names;
}

function launcherOption(args: ParsedArgs, io: CliIo): Launcher {
  const choice = stringOption(args, 'launcher') ?? 'node';
  if (choice === 'agentk') return { command: 'agentk', prefix: [] };
  if (choice !== 'node') throw usageError('--launcher must be node or agentk');
  if (/[\\/]_npx[\\/]/.test(PACKAGE_ROOT) && !flag(args, 'dry-run')) {
    io.stderr(
      `agentk wrap: warning: this AgentK runs from npx's cache (${PACKAGE_ROOT}), which npm may clear; install it (npm install -g) and wrap with --launcher agentk, or from a checkout\n`,
    );
  }
  return { command: process.execPath, prefix: [join(PACKAGE_ROOT, 'bin', 'agentk.js')] };
}

/** --policy as an absolute path (the client starts AgentK elsewhere), checked now. */
function policyOption(args: ParsedArgs, io: CliIo): string | undefined {
  const given = stringOption(args, 'policy');
  if (given === undefined) return undefined;
  const path = resolve(io.cwd, given);
  loadPolicyFile(path);
  return path;
}

/** Wrap every selected local entry not already behind AgentK; the others say why not. */
function planWrap(args: ParsedArgs, io: CliIo, config: ClientConfig, where: string): EntryResult[] {
  const launcher = launcherOption(args, io);
  const policy = policyOption(args, io);
  const kinds = new Map(
    Object.keys(config.servers).map((name) => [name, entryKind(config, name, where)]),
  );
  // Ids in use (by entries already behind AgentK) are not given twice: pins are per id.
  const servers = new Map<string, ProxyConfig | string>();
  const taken = new Set<string>();
  for (const [name, kind] of kinds) {
    if (kind.kind !== 'proxied') continue;
    const server = proxiedServer(kind);
    servers.set(name, server);
    if (typeof server !== 'string') taken.add(server.serverId.toLowerCase());
  }
  return selected(args, config, where).map((name): EntryResult => {
    const kind = kinds.get(name) as EntryKind;
    if (kind.kind === 'skipped') return { name, action: 'skipped', reason: kind.reason };
    if (kind.kind === 'refused') return { name, action: 'refused', reason: kind.reason };
    const refusal = kind.kind === 'proxied' ? servers.get(name) : undefined;
    if (typeof refusal === 'string') return { name, action: 'refused', reason: refusal };
    const env = kernelEnv(kind.envNames);
    if (kind.kind === 'proxied') {
      const behind = `already behind AgentK (${kind.launcher})`;
      if (env !== null) return { name, action: 'refused', reason: `${behind}, but ${env}` };
      return passMissingEnv(config, name, kind, refusal as ProxyConfig, behind);
    }
    if (env !== null) return { name, action: 'refused', reason: `not wrapped: ${env}` };
    const serverId = serverIdFor(name, taken);
    taken.add(serverId.toLowerCase());
    const entry = config.servers[name] as Record<string, unknown>;
    config.servers[name] = wrapEntry(entry, kind, {
      launcher,
      serverId,
      ...(policy !== undefined ? { policy } : {}),
      ...(flag(args, 'sandbox') ? { sandbox: true } : {}),
    });
    const note = kind.note !== undefined ? { note: kind.note } : {};
    return { name, action: 'wrapped', server_id: serverId, allow_env: kind.envNames, ...note };
  });
}

/**
 * An entry already behind AgentK whose env names a variable its proxy does not pass (added
 * after it was wrapped): the name is passed now, as wrapping would have, else the server
 * would never see it, and nothing would say so.
 */
function passMissingEnv(
  config: ClientConfig,
  name: string,
  kind: Proxied,
  server: ProxyConfig,
  behind: string,
): EntryResult {
  const missing = kind.envNames.filter((env) => !server.allowEnv.includes(env));
  if (missing.length === 0) return { name, action: 'already-wrapped', reason: behind };
  const entry = config.servers[name] as Record<string, unknown>;
  config.servers[name] = passEnvEntry(entry, kind, missing);
  return { name, action: 'env-passed', server_id: server.serverId, allow_env: missing };
}

/** An entry a client reaches over the network (`url`, or a `type` other than stdio). */
function isRemote(entry: unknown): boolean {
  const fields = entry as Record<string, unknown>;
  return 'url' in fields || (fields.type !== undefined && fields.type !== 'stdio');
}

/** Restore every selected entry behind AgentK to the server's own command line. */
function planUnwrap(args: ParsedArgs, config: ClientConfig, where: string): EntryResult[] {
  return selected(args, config, where).map((name): EntryResult => {
    const kind = entryKind(config, name, where);
    if (kind.kind === 'skipped' && isRemote(config.servers[name])) {
      return { name, action: 'not-wrapped', reason: 'not behind AgentK (a remote server)' };
    }
    if (kind.kind === 'skipped') return { name, action: 'skipped', reason: kind.reason };
    if (kind.kind === 'refused') return { name, action: 'refused', reason: kind.reason };
    if (kind.kind === 'stdio') {
      const note = kind.note !== undefined ? ` (${kind.note})` : '';
      return { name, action: 'not-wrapped', reason: `not behind AgentK${note}` };
    }
    // The proxy's own parser says what it would start, so unwrap restores exactly that.
    const server = proxiedServer(kind);
    if (typeof server === 'string') return { name, action: 'refused', reason: server };
    if (server.remote !== null) {
      return {
        name,
        action: 'refused',
        reason: 'proxies a remote server (--url): edit it by hand',
      };
    }
    const entry = config.servers[name] as Record<string, unknown>;
    config.servers[name] = unwrapEntry(entry, server);
    return { name, action: 'unwrapped' };
  });
}

/** The dry run's diff, with env and header values and credential-shaped text hidden. */
function shownDiff(before: string, after: string, format: ClientFormat, where: string, mode: Mode) {
  const hide = (text: string) => redactMembers(text, [format], ['env', 'headers']);
  const diff = unifiedDiff(hide(before), hide(after), [
    where,
    `${where} (${mode === 'wrap' ? 'wrapped' : 'unwrapped'})`,
  ]);
  return diff
    .split('\n')
    .map((line) => redactSecrets(line))
    .join('\n');
}

function entryLines(results: readonly EntryResult[]): string[] {
  return table(
    results.map((result) => {
      const what =
        result.action === 'wrapped'
          ? `server-id ${result.server_id}${result.allow_env?.length ? `; env passed: ${result.allow_env.join(', ')}` : ''}${result.note ? `; ${result.note}` : ''}`
          : result.action === 'env-passed'
            ? `already behind AgentK; now passes ${result.allow_env?.join(', ')}, named in its env but not passed to the server`
            : (result.reason ?? '');
      const label =
        result.action === 'env-passed'
          ? 'updated'
          : ['wrapped', 'unwrapped', 'refused'].includes(result.action)
            ? result.action
            : 'left as is';
      return [`  ${label}`, result.name, what];
    }),
  );
}

/** What was done, for a person: the entries, then what happened to the file. */
function summary(
  mode: Mode,
  path: string,
  results: readonly EntryResult[],
  outcome: { readonly changed: number; readonly dryRun: boolean; readonly backup: string | null },
  reformatted: boolean,
): string[] {
  const lines = [...entryLines(results)];
  if (reformatted) {
    lines.push(
      '  (the whole file is written again, indented like its first indented line: editing in place would not give the same document)',
    );
  }
  const { changed, dryRun, backup } = outcome;
  if (changed === 0) lines.push(`${path}: nothing to ${mode}; not written`);
  else if (dryRun) lines.push(`dry run: ${path} not written (env and header values hidden)`);
  else {
    const done = mode === 'wrap' ? 'wrapped' : 'unwrapped';
    const updated = results.filter((r) => r.action === 'env-passed').length;
    const also = updated > 0 ? ` (${updated} already wrapped, updated)` : '';
    lines.push(
      `${done} ${changed} server${changed === 1 ? '' : 's'}${also} in ${path}; backup: ${backup ?? ''}`,
    );
    lines.push(
      mode === 'wrap'
        ? `restart the client to use it; \`agentk unwrap\` with the same file undoes it`
        : 'restart the client to use it',
    );
  }
  const refused = results.filter((r) => r.action === 'refused').length;
  if (refused > 0) {
    lines.push(`${refused} refused, left as ${refused === 1 ? 'it is' : 'they are'}: see above`);
  }
  return lines.map(printable);
}

function run(mode: Mode, args: ParsedArgs, io: CliIo): ExitCode {
  const path = configPath(args, io);
  const text = readConfigText(path, 'client configuration', MAX_CLIENT_CONFIG_BYTES);
  const config = parseClientConfig(text, path, formatOption(args));
  const results =
    mode === 'wrap' ? planWrap(args, io, config, path) : planUnwrap(args, config, path);
  const done = mode === 'wrap' ? 'wrapped' : 'unwrapped';
  const changed = results
    .filter((r) => r.action === done || r.action === 'env-passed')
    .map((r) => r.name);
  const edited = changed.length > 0 ? editedText(text, config, changed, path) : null;
  const dryRun = flag(args, 'dry-run');
  const diff = edited && dryRun ? shownDiff(text, edited.text, config.format, path, mode) : '';
  const backup = edited && !dryRun ? replaceWithBackup(path, text, edited.text) : null;
  const reformatted = edited?.reformatted ?? false;
  // One line each on stderr for the entries refused: the others are done, this one is not.
  const refused = results.filter((r) => r.action === 'refused');
  for (const result of refused) {
    const entry = formatPath([config.format, result.name]);
    io.stderr(`${printable(`agentk ${mode}: ${path}: ${entry}: ${result.reason}`)}\n`);
  }
  if (flag(args, 'json')) {
    io.stdout(
      json({
        ok: refused.length === 0,
        file: path,
        format: config.format,
        dry_run: dryRun,
        changed: changed.length > 0,
        backup,
        reformatted,
        entries: results,
        ...(dryRun ? { diff } : {}),
      }),
    );
  } else {
    const outcome = { changed: changed.length, dryRun, backup };
    io.stdout(`${diff}${summary(mode, path, results, outcome, reformatted).join('\n')}\n`);
  }
  return refused.length > 0 ? EXIT.failed : EXIT.ok;
}

const OPTIONS = `  FILE               the client's configuration: claude_desktop_config.json (Claude Desktop),
                     .mcp.json (Claude Code), .cursor/mcp.json (Cursor), .vscode/mcp.json
                     (VS Code). Default: Claude Desktop's, if it exists
                     (~/Library/Application Support/Claude on macOS, %APPDATA%\\Claude on
                     Windows, ~/.config/Claude elsewhere)
  --server NAME      only this entry (repeatable)
  --format KEY       mcpServers or servers: the key that holds the servers (default: the
                     one present)
  --dry-run          print the change as a diff (env and header values hidden), write nothing
  --json             print one JSON object`;

const WRITING = `Only the command and args of the entries that change are edited, in place: comments,
layout and every other field stay. The file is written only if something changes: a backup
first (FILE.agentk-backup-<time>, beside it, never over an existing one), then the new text
through a temporary file and a rename (same mode). Restart the client afterwards.`;

export const wrapCommand: Command = {
  name: 'wrap',
  usage: `agentk wrap [FILE] [--server NAME]... [--policy FILE] [--launcher node|agentk]
            [--sandbox] [--format mcpServers|servers] [--dry-run] [--json]

Put AgentK in front of every local (stdio) server of an MCP client's configuration: the
entry's command becomes agentk mcp-proxy-stdio --server-id <entry name> ... -- <its
command and args>. Each name in its env is passed to the server (--allow-env), since the
proxy starts servers with PATH and HOME only. Remote entries (url, http, sse) and entries
with an envFile are left as they are, and say so; so are entries already behind AgentK:
started as agentk, <node> /abs/.../bin/agentk.js or npx [-y] agentk-kernel, then
mcp-proxy-stdio with arguments the proxy accepts (npx agentk is another npm package).
agentk, node and npx count only as bare names (or this node's absolute path), and
bin/agentk.js only as this AgentK's or an installed copy's (node_modules/agentk-kernel),
outside the configuration's project; no entry with an envFile counts. Others are
wrapped (a second AgentK in front of one is harmless). An entry already behind AgentK
whose env names a variable its proxy does not pass (added since) is updated: it gets
--allow-env for that name.

Refused, left as it is, one line each on stderr, exit 1 (the other entries are still
done): an entry whose env sets a name that would configure AgentK's own process once the
client starts AgentK with it (NODE_OPTIONS, NODE_PATH, LD_*, DYLD_*, AGENTK_*, HOME,
XDG_STATE_HOME, ...); an entry with an env key that is not a variable name (NAME=...
would set NAME); an npx AgentK entry whose env sets npm_config_* (npx obeys it, and the
project's .npmrc: --launcher node is the safe default); and an AgentK entry whose proxy
arguments the proxy would refuse.

${OPTIONS}
  --policy FILE      the policy every wrapped entry uses (checked now; written as an
                     absolute path)
  --launcher node    how the client starts AgentK (default): this node's absolute path and
                     this install's bin/agentk.js, which needs nothing on the client's PATH
                     (after moving or upgrading node or AgentK: agentk unwrap, agentk wrap)
  --launcher agentk  the command agentk, found on the client's PATH (a global install:
                     survives upgrades; GUI clients often start with a short PATH)
  --sandbox          each wrapped server runs under mcp-proxy-stdio --sandbox (bubblewrap:
                     the workspace, its own program, no home, no network; docs/sandbox.md).
                     npx and uvx entries need their caches in $HOME and the network, which
                     the sandbox hides: install such servers and name their entry file

${WRITING}`,
  options: {
    server: { type: 'string', multiple: true },
    policy: { type: 'string' },
    launcher: { type: 'string' },
    sandbox: { type: 'boolean' },
    format: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: [0, 1],
  run: (args, io) => run('wrap', args, io),
};

export const unwrapCommand: Command = {
  name: 'unwrap',
  usage: `agentk unwrap [FILE] [--server NAME]... [--format mcpServers|servers] [--dry-run] [--json]

Take AgentK out of an MCP client's configuration: every entry that runs agentk
mcp-proxy-stdio gets back the server's own command and args (what the proxy would have
started); env and every other field stay as they are. An entry that had no args gets none.
Entries that do not start AgentK as wrap writes it are left alone; one whose proxy
arguments the proxy would refuse is refused (one line on stderr, exit 1), the rest done.

${OPTIONS}

${WRITING}`,
  options: {
    server: { type: 'string', multiple: true },
    format: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: [0, 1],
  run: (args, io) => run('unwrap', args, io),
};
