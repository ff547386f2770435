// Where a proxy session keeps what it writes (its trace, pins, approvals and the server's
// log: the state directory, keyed by workspace, unless flags say otherwise), what no tool
// call may touch, and the housekeeping at start: the latest link and the runs' retention.

import {
  closeSync,
  mkdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { applyRetention, retentionFromEnv } from '../config/retention.js';
import { markLive } from '../config/runs.js';
import { ensureState, migrateLegacyState, type StateDirs, stateDirs } from '../config/state.js';
import { SIGNING_KEY_FILE_ENV } from '../evidence/keys.js';
import { PinStore } from '../kernel/catalogue/pins.js';
import { openAppendOnly } from '../mcp/proxy/stdio.js';
import { usageError } from './command.js';
import { serverLogPath } from './proxy-report.js';
import type { RemoteConfig } from './remote-options.js';

/** A proxy session's settings, checked (mcp-proxy-stdio's proxyConfig). */
export interface ProxyConfig {
  readonly serverId: string;
  readonly agentId: string | undefined;
  readonly policyPath: string;
  readonly tracePath: string | undefined;
  readonly traceDir: string | undefined;
  readonly timeoutMs: number;
  readonly maxRequestMs: number;
  readonly maxBytes: number;
  readonly allowEnv: readonly string[];
  /** The server's command line ('' and none for a remote server). */
  readonly command: string;
  readonly args: readonly string[];
  /** A remote server (--url) instead of a command. */
  readonly remote: RemoteConfig | null;
  readonly stderrFile: string | undefined;
  readonly serialize: boolean;
  readonly fsync: boolean;
  readonly pinsDir: string | undefined;
  readonly shadowPolicyPath: string | undefined;
  readonly approvalsDir: string | undefined;
  readonly approvalTimeoutMs: number;
}

/** Where one proxy session keeps what it writes. */
export interface Places {
  readonly trace: string;
  readonly pins: string;
  readonly approvals: string;
  readonly protected: string[];
  readonly latest: string | null;
  /** The server's stderr log (null: none could be opened; the tail is still kept). */
  readonly log: string | null;
  /** The state directory's runs, when the trace goes there (retention applies). */
  readonly ownRuns: string | null;
}

/**
 * Where this session's trace, pins and approvals go (the state directory, keyed by the
 * workspace, unless flags say otherwise), and what no agent call may touch: all of that,
 * the policies, the signing key file and a `.agentk/` left in the workspace.
 */
export function statePlaces(
  config: ProxyConfig,
  io: {
    readonly cwd: string;
    readonly env: Readonly<Record<string, string | undefined>>;
  },
  runId: string,
  /** The directories the server's command line names (serverRoots). */
  roots: readonly string[],
  /** One line on stderr, named for the session. */
  say: (line: string) => void,
): Places {
  const dirs = stateDirs(io.env, io.cwd);
  const at = (path: string) => resolve(io.cwd, path);
  const template = config.tracePath;
  if (template !== undefined && config.traceDir !== undefined) {
    throw usageError('give --trace-out or --trace-dir, not both');
  }
  const traceDir = config.traceDir ?? (io.env.AGENTK_TRACE_DIR || undefined);
  // Only what is used is created: a config that names every place needs no state home.
  const runs =
    template !== undefined
      ? null
      : traceDir !== undefined
        ? ensureDir(at(traceDir))
        : ensureState(dirs, dirs.runs);
  const trace = at(
    runs === null
      ? (template as string).replaceAll('{run}', runId).replaceAll('{server}', config.serverId)
      : join(runs, `mcp-${config.serverId}-${runId}.jsonl`),
  );
  const pins = at(config.pinsDir ?? dirs.pins);
  if (config.pinsDir === undefined) {
    // Best effort: a .agentk/ that cannot be taken over is said, and the session goes on.
    try {
      const moved = migrateLegacyState(dirs, io.cwd, usablePinFile);
      if (moved !== null) say(moved);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      say(
        `could not take over ${join(io.cwd, '.agentk')} from an older AgentK (${code}); its pins were not copied`,
      );
    }
  }
  const approvals = at(config.approvalsDir ?? ensureState(dirs, dirs.approvals));
  const log = config.stderrFile !== undefined ? at(config.stderrFile) : defaultLog(dirs, config);
  const keyFile = io.env[SIGNING_KEY_FILE_ENV];
  const named = [
    dirs.home,
    // A .agentk/ of an older AgentK, where the proxy runs and in each directory the server
    // was given (it was where pins and traces lived).
    ...[io.cwd, ...roots].map((dir) => join(dir, '.agentk')),
    // A trace directory the user named: every trace there, and the latest link.
    ...(runs !== null && traceDir !== undefined ? [runs] : []),
    trace,
    pins,
    approvals,
    at(config.policyPath),
    ...(config.shadowPolicyPath !== undefined ? [at(config.shadowPolicyPath)] : []),
    ...(keyFile ? [at(keyFile)] : []),
    ...(log !== null ? [log] : []),
  ];
  // As given, and as the real path a server that resolves links would reach.
  const real = named.flatMap((path) => {
    try {
      return [realpathSync(path)];
    } catch {
      return [];
    }
  });
  return {
    trace,
    pins,
    approvals,
    protected: [...new Set([...named, ...real])],
    latest: runs === null ? null : join(runs, `mcp-${config.serverId}-latest.jsonl`),
    log,
    ownRuns: runs !== null && traceDir === undefined ? runs : null,
  };
}

/** The state directory's log for this server, if it can be opened for appending. */
function defaultLog(dirs: StateDirs, config: ProxyConfig): string | null {
  try {
    const path = serverLogPath(ensureState(dirs, dirs.logs), config.serverId);
    closeSync(openAppendOnly(path));
    return path;
  } catch {
    return null;
  }
}

/**
 * Mark this session's trace live, and hold the workspace's runs to the retention limits
 * (config/retention.ts). Best effort: a failure is one line on stderr, never the end.
 */
export function keepRunsBounded(
  runs: string,
  trace: string,
  env: Readonly<Record<string, string | undefined>>,
  say: (line: string) => void,
): void {
  markLive(trace);
  try {
    const limits = retentionFromEnv(env);
    const failed = limits === null ? [] : applyRetention({ runs }, limits).failed;
    if (failed.length > 0) {
      say(`could not remove ${failed.length} old trace file(s) from ${runs} (${failed[0]?.code})`);
    }
  } catch (error) {
    say(`old traces not pruned: ${(error as Error).message}`);
  }
}

/** A trace directory the user named: created if missing (owner only). */
function ensureDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw usageError(`--trace-dir ${dir}: cannot create it (${code})`);
  }
  return dir;
}

/**
 * Point `link` at `trace` (a relative symbolic link, replaced atomically), so that the
 * newest session of a server is always `mcp-<server-id>-latest.jsonl`. Best effort: a file
 * system without links keeps the traces and loses only the pointer.
 */
export function pointLatest(link: string, trace: string): void {
  replaceLink(link, relative(dirname(link), trace));
}

/** `link` made to say `target`, replaced atomically; best effort (a failure leaves it). */
function replaceLink(link: string, target: string): void {
  const temporary = `${link}.${process.pid}.tmp`;
  try {
    symlinkSync(target, temporary);
    renameSync(temporary, link);
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // something else is there: leave it, the pointer is best effort
    }
  }
}

/** What the latest link points at now (as written), or null: none, or not a link. */
export function latestTarget(link: string): string | null {
  try {
    return readlinkSync(link);
  } catch {
    return null;
  }
}

/**
 * A session that recorded nothing (its server never answered) gives the latest link back
 * to the run it named before, or removes it: `latest` means the newest run with something
 * in it, not the newest failed start.
 */
export function restoreLatest(link: string, trace: string, before: string | null): void {
  if (latestTarget(link) !== relative(dirname(link), trace)) return; // another session's now
  if (before !== null) replaceLink(link, before);
  else {
    try {
      rmSync(link, { force: true });
    } catch {
      // the pointer is best effort
    }
  }
}

/**
 * The directories the server's own command line names (a filesystem server's roots, a git
 * server's repository): the user configured them, so they are structure (as given, and as
 * the real path the server resolves them to).
 */
export function serverRoots(args: readonly string[], cwd: string): string[] {
  const roots: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-') || !(isAbsolute(arg) || arg.startsWith('.'))) continue;
    const path = resolve(cwd, arg);
    try {
      if (!statSync(path).isDirectory()) continue;
      roots.push(path, realpathSync(path));
    } catch {
      // not a directory on this machine: not a root
    }
  }
  return roots;
}

/** A pin file (or a pending one) the pin store reads without complaint. */
export function usablePinFile(dir: string, file: string): boolean {
  const pending = file.endsWith('.pending.json');
  const server = file.slice(0, -(pending ? '.pending.json' : '.json').length);
  try {
    const store = new PinStore(dir);
    return (pending ? store.loadPending(server) : store.load(server)) !== null;
  } catch {
    return false;
  }
}
