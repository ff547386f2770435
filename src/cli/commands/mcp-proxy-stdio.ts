// `agentk mcp-proxy-stdio`: put AgentK in front of an MCP server, in an MCP client's config.

import {
  closeSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { ENV_NAME, SERVER_ID } from '../../config/clients.js';
import { ensureState, migrateLegacyPins, stateDirs } from '../../config/state.js';
import { AgentkError } from '../../errors.js';
import { approvalFiles } from '../../evidence/approvals.js';
import { loadSigner, SIGNING_KEY_FILE_ENV } from '../../evidence/keys.js';
import { PinStore } from '../../kernel/catalogue/pins.js';
import { Kernel } from '../../kernel/kernel.js';
import { newRunId } from '../../kernel/options.js';
import { childEnvironment, openAppendOnly, StdioProxy } from '../../mcp/proxy/stdio.js';
import {
  DEFAULT_APPROVAL_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_REQUEST_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
} from '../../mcp/proxy/types.js';
import { DEFAULT_POLICY_PATH } from '../../paths.js';
import { loadPolicyFile } from '../../policy/load.js';
import { type Command, flag, type ParsedArgs, stringOption, usageError } from '../command.js';
import { EXIT, type ExitCode, shellWord } from '../io.js';

function integerOption(
  args: ParsedArgs,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = stringOption(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(`--${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Signals whose default action would end the proxy with the trace unsealed. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR2',
];

/** The server's stderr log must be writable, and not a symbolic link, before anything starts. */
function checkAppendable(path: string): void {
  try {
    closeSync(openAppendOnly(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why =
      code === 'ELOOP' ? 'it is a symbolic link, refused' : `cannot open for appending (${code})`;
    throw usageError(`--stderr-file ${path}: ${why}`);
  }
}

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
  readonly command: string;
  readonly args: readonly string[];
  readonly stderrFile: string | undefined;
  readonly serialize: boolean;
  readonly fsync: boolean;
  readonly pinsDir: string | undefined;
  readonly shadowPolicyPath: string | undefined;
  readonly approvalsDir: string | undefined;
  readonly approvalTimeoutMs: number;
}

/** Every check that can fail happens here, before anything is spawned or written. */
export function proxyConfig(args: ParsedArgs): ProxyConfig {
  const serverId = stringOption(args, 'server-id');
  if (serverId === undefined)
    throw usageError('--server-id ID is required (it names the server in policies and traces)');
  if (!SERVER_ID.test(serverId))
    throw usageError(
      '--server-id must be 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit',
    );
  const agentId = stringOption(args, 'agent-id');
  if (agentId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(agentId)) {
    throw usageError('--agent-id must be 1-128 of A-Z a-z 0-9 . _ : -');
  }
  const allowEnv = (args.values['allow-env'] as string[] | undefined) ?? [];
  allowEnv.forEach((name, i) => {
    // The value might be a mistyped NAME=secret: never echo it.
    if (!ENV_NAME.test(name))
      throw usageError(
        `--allow-env #${i + 1} is not an environment variable name (letters, digits, _)`,
      );
  });
  const flagCommand = stringOption(args, 'command');
  const flagArgs = (args.values.arg as string[] | undefined) ?? [];
  if (flagCommand !== undefined && args.rest.length > 0) {
    throw usageError('give the server either with --command/--arg or after --, not both');
  }
  const command = flagCommand ?? args.rest[0];
  if (command === undefined || command === '') {
    throw usageError('no server to start: give --command CMD [--arg ARG]... or -- CMD [ARGS]...');
  }
  if (flagCommand === undefined && flagArgs.length > 0) throw usageError('--arg needs --command');
  const childArgs = flagCommand !== undefined ? flagArgs : args.rest.slice(1);
  if ([command, ...childArgs].some((part) => part.includes('\0'))) {
    throw usageError('the server command line must not contain NUL bytes');
  }
  return {
    serverId,
    agentId,
    policyPath: stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH,
    tracePath: stringOption(args, 'trace-out'),
    traceDir: stringOption(args, 'trace-dir'),
    timeoutMs: integerOption(
      args,
      'response-timeout-ms',
      DEFAULT_RESPONSE_TIMEOUT_MS,
      1,
      3_600_000,
    ),
    maxRequestMs: integerOption(args, 'max-request-ms', DEFAULT_MAX_REQUEST_MS, 1, 24 * 3_600_000),
    maxBytes: integerOption(
      args,
      'max-message-bytes',
      DEFAULT_MAX_MESSAGE_BYTES,
      1024,
      64 * 1024 * 1024,
    ),
    allowEnv,
    command,
    args: childArgs,
    stderrFile: stringOption(args, 'stderr-file'),
    serialize: args.values.serialize === true,
    fsync: args.values.fsync === true,
    pinsDir: stringOption(args, 'pins-dir'),
    shadowPolicyPath: stringOption(args, 'shadow-policy'),
    approvalsDir: stringOption(args, 'approvals-dir'),
    approvalTimeoutMs: integerOption(
      args,
      'approval-timeout-ms',
      DEFAULT_APPROVAL_TIMEOUT_MS,
      1,
      86_400_000,
    ),
  };
}

export const mcpProxyStdioCommand: Command = {
  name: 'mcp-proxy-stdio',
  usage: `agentk mcp-proxy-stdio --server-id ID [options] -- CMD [ARGS]...
agentk mcp-proxy-stdio --server-id ID [options] --command CMD [--arg ARG]...

Speaks MCP (newline-delimited JSON-RPC) on stdin/stdout to the client and starts the
real server as a child. tools/list, tools/call, resources/*, prompts/*, and the server's
sampling, elicitation and roots requests become kernel syscalls; denied calls never
reach the server; clean traffic is forwarded byte for byte; any other method is refused.

  --server-id ID             the server's name in policies and traces (required)
  --policy FILE              policy (default: examples/agentk.policy.toml)
  --agent-id ID              the agent's id in the trace (default: the policy's)
  --trace-out FILE           flight log; {run} and {server} in FILE become the run id and
                             server id, so a fixed config names a new file each session
  --trace-dir DIR            put mcp-<server-id>-<run-id>.jsonl here (or $AGENTK_TRACE_DIR;
                             default: the state directory's runs, see below), with
                             mcp-<server-id>-latest.jsonl pointing at the newest
  --response-timeout-ms N    how long to wait for the server's answer or progress on a
                             request (default ${DEFAULT_RESPONSE_TIMEOUT_MS}); each progress
                             notification starts it again...
  --max-request-ms N         ...up to this much in all (default ${DEFAULT_MAX_REQUEST_MS})
  --max-message-bytes N      frame size cap, both directions (default ${DEFAULT_MAX_MESSAGE_BYTES})
  --allow-env NAME           pass this variable to the server (repeatable); the server
                             otherwise gets only PATH and HOME
  --stderr-file FILE         append the server's stderr here (default: discarded)
  --fsync                    make trace events durable (fsync) before the messages they
                             allow go out; one fsync per batch (group commit)
  --pins-dir DIR             where catalogue pins live (default: the state directory's pins)
  --approvals-dir DIR        where agentk approve leaves approvals (default: the state
                             directory's approvals, where agentk approve writes them)
  --approval-timeout-ms N    how long the user has to answer an approval request (default 300000)
  --shadow-policy FILE       also decide every syscall under this policy and record both
                             decisions, enforcing only --policy (trace-inspect compares)
  --serialize                one request at a time, for replaying a scripted transcript
                             whose later requests were written knowing earlier answers
  --quiet                    print nothing on stderr but errors and the closing summary
                             (default: a line at start and one per denied request)
  --command CMD, --arg ARG   the server, instead of -- CMD ARGS (--arg takes values
                             that start with a hyphen)

AgentK keeps its state out of the agent's workspace, in $AGENTK_HOME (default
$XDG_STATE_HOME/agentk, else ~/.local/state/agentk): workspaces/<name>-<hash>/runs and
pins for the directory the proxy runs in, and approvals shared by all. No tool call may
read or change that directory, the policy, the signing key file or a .agentk/ directory
in the workspace (kernel.protected-path).`,
  options: {
    'server-id': { type: 'string' },
    policy: { type: 'string' },
    'agent-id': { type: 'string' },
    'trace-out': { type: 'string' },
    'trace-dir': { type: 'string' },
    quiet: { type: 'boolean' },
    'response-timeout-ms': { type: 'string' },
    'max-request-ms': { type: 'string' },
    'max-message-bytes': { type: 'string' },
    'allow-env': { type: 'string', multiple: true },
    'stderr-file': { type: 'string' },
    fsync: { type: 'boolean' },
    command: { type: 'string' },
    arg: { type: 'string', multiple: true },
    serialize: { type: 'boolean' },
    'pins-dir': { type: 'string' },
    'shadow-policy': { type: 'string' },
    'approvals-dir': { type: 'string' },
    'approval-timeout-ms': { type: 'string' },
  },
  positionals: [0, 0],
  hyphenValues: ['arg'],
  takesRest: true,
  async run(args, io): Promise<ExitCode> {
    const config = proxyConfig(args);
    if (config.stderrFile !== undefined) checkAppendable(config.stderrFile);
    const policy = loadPolicyFile(config.policyPath);
    const shadowPolicy =
      config.shadowPolicyPath === undefined ? undefined : loadPolicyFile(config.shadowPolicyPath);
    const signer = loadSigner(io.env);
    const runId = newRunId();
    const roots = serverRoots(config.args, io.cwd);
    const place = statePlaces(config, io, runId, roots);
    const kernel = new Kernel({
      policy,
      signer,
      runId,
      trace: { path: place.trace, durability: config.fsync ? 'group' : 'flush' },
      pins: new PinStore(place.pins),
      ...(shadowPolicy ? { shadowPolicy } : {}),
      approvalSource: approvalFiles(place.approvals, signer),
      // The denial names the exact command, runnable from any directory.
      approveCommand: (hash) =>
        `agentk approve ${hash} --approvals-dir ${shellWord(place.approvals)}`,
      ...(config.agentId !== undefined ? { agentId: config.agentId } : {}),
      roots,
      // The server runs here: its relative paths resolve against it.
      cwd: io.cwd,
      protectedPaths: place.protected,
    });
    if (place.latest !== null) pointLatest(place.latest, place.trace);
    const quiet = flag(args, 'quiet');
    if (!quiet) {
      io.stderr(
        `agentk ${config.serverId}: mediating ${config.command} under ${config.policyPath}; trace ${place.trace}\n`,
      );
    }
    const input = io.stdin ?? new PassThrough();
    const proxy = new StdioProxy({
      kernel,
      serverId: config.serverId,
      command: config.command,
      args: config.args,
      env: childEnvironment(io.env, config.allowEnv),
      cwd: io.cwd,
      input,
      output: io.stdoutStream ?? new PassThrough(),
      endOutput: io.stdoutStream === undefined,
      responseTimeoutMs: config.timeoutMs,
      maxRequestMs: config.maxRequestMs,
      maxMessageBytes: config.maxBytes,
      serialize: config.serialize,
      durable: config.fsync,
      approvalTimeoutMs: config.approvalTimeoutMs,
      ...(quiet
        ? {}
        : { onDenial: (line: string) => io.stderr(`agentk ${config.serverId}: ${line}\n`) }),
      ...(config.stderrFile !== undefined ? { stderrFile: config.stderrFile } : {}),
    });
    // Every signal that would end the process ends the session instead: answered, sealed,
    // and the server stopped.
    const stop = (signal: NodeJS.Signals) => proxy.stop(`stopped by ${signal}`);
    for (const signal of STOP_SIGNALS) process.once(signal, stop);
    await proxy.start();
    const exit = await proxy.done;
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
    const tracePath = place.trace;
    const shown = relative(io.cwd, tracePath).startsWith('..')
      ? tracePath
      : relative(io.cwd, tracePath);
    io.stderr(
      `agentk mcp-proxy-stdio: ${exit.reason}; ${exit.stats.clientRequests} requests (${exit.stats.forwarded} forwarded, ${exit.stats.answeredByProxy} answered by AgentK); trace ${shown} (${exit.seal ? 'sealed' : 'unsealed'})\n`,
    );
    if (exit.code === 2) throw new AgentkError('USAGE', exit.reason);
    return exit.code === 0 ? EXIT.ok : EXIT.failed;
  },
};

/**
 * Where this session's trace, pins and approvals go (the state directory, keyed by the
 * workspace, unless flags say otherwise), and what no agent call may touch: all of that,
 * the policies, the signing key file and a `.agentk/` left in the workspace.
 */
function statePlaces(
  config: ProxyConfig,
  io: {
    readonly cwd: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    stderr(text: string): void;
  },
  runId: string,
  /** The directories the server's command line names (serverRoots). */
  roots: readonly string[],
): {
  trace: string;
  pins: string;
  approvals: string;
  protected: string[];
  latest: string | null;
} {
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
    const moved = migrateLegacyPins(dirs, io.cwd);
    if (moved !== null) io.stderr(`agentk mcp-proxy-stdio: ${moved}\n`);
  }
  const approvals = at(config.approvalsDir ?? ensureState(dirs, dirs.approvals));
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
  };
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
function pointLatest(link: string, trace: string): void {
  const temporary = `${link}.${process.pid}.tmp`;
  try {
    symlinkSync(relative(dirname(link), trace), temporary);
    renameSync(temporary, link);
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // something else is there: leave it, the pointer is best effort
    }
  }
}

/**
 * The directories the server's own command line names (a filesystem server's roots, a git
 * server's repository): the user configured them, so they are structure (as given, and as
 * the real path the server resolves them to).
 */
function serverRoots(args: readonly string[], cwd: string): string[] {
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
