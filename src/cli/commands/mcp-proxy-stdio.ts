// `agentk mcp-proxy-stdio`: put AgentK in front of an MCP server, in an MCP client's config.

import { closeSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { ENV_NAME, SERVER_ID } from '../../config/clients.js';
import { openAppendOnly } from '../../mcp/proxy/stdio.js';
import {
  DEFAULT_APPROVAL_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_REQUEST_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
} from '../../mcp/proxy/types.js';
import { DEFAULT_POLICY_PATH } from '../../paths.js';
import { type Command, flag, type ParsedArgs, stringOption, usageError } from '../command.js';
import { EXIT, type ExitCode } from '../io.js';
import type { ProxyConfig } from '../proxy-places.js';
import { openProxyRun } from '../proxy-run.js';
import { remoteCredentials } from '../remote-auth.js';
import { remoteOptions } from '../remote-options.js';

export function integerOption(
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
export const STOP_SIGNALS: readonly NodeJS.Signals[] = [
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
  const remote = remoteOptions(args);
  const flagCommand = stringOption(args, 'command');
  const flagArgs = (args.values.arg as string[] | undefined) ?? [];
  if (flagCommand !== undefined && args.rest.length > 0) {
    throw usageError('give the server either with --command/--arg or after --, not both');
  }
  const command = remote !== null ? '' : (flagCommand ?? args.rest[0]);
  if (command === undefined || (command === '' && remote === null)) {
    throw usageError(
      'no server to start: give --url URL, --command CMD [--arg ARG]..., or -- CMD [ARGS]...',
    );
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
    remote,
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

/** The options of a proxy session (mcp-proxy-http takes them too, and its own). */
export const PROXY_OPTIONS = {
  'server-id': { type: 'string' },
  policy: { type: 'string' },
  'agent-id': { type: 'string' },
  'trace-out': { type: 'string' },
  'trace-dir': { type: 'string' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
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
  otel: { type: 'boolean' },
  'otel-endpoint': { type: 'string' },
  url: { type: 'string' },
  header: { type: 'string', multiple: true },
  'allow-insecure-http': { type: 'boolean' },
  oauth: { type: 'boolean' },
  sandbox: { type: 'boolean' },
} as const;

export const mcpProxyStdioCommand: Command = {
  name: 'mcp-proxy-stdio',
  usage: `agentk mcp-proxy-stdio --server-id ID [options] -- CMD [ARGS]...
agentk mcp-proxy-stdio --server-id ID [options] --command CMD [--arg ARG]...
agentk mcp-proxy-stdio --server-id ID [options] --url URL [--header 'Name: value']...

Speaks MCP (newline-delimited JSON-RPC) on stdin/stdout to the client and starts the
real server as a child, or with --url speaks Streamable HTTP to a remote one. tools/list, tools/call, resources/*, prompts/*, and the server's
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
  --stderr-file FILE         append the server's stderr here (default: the state
                             directory's logs/mcp-<server-id>.log); when the server dies,
                             its last lines are shown, redacted
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
  --verbose                  also show the server's stderr as it comes, and every
                             variable not passed to it
  --otel                     export each syscall as an OpenTelemetry span over OTLP/HTTP
                             (to $OTEL_EXPORTER_OTLP_ENDPOINT, default localhost:4318; or
                             the policy's [telemetry]); see docs/telemetry.md
  --otel-endpoint URL        the OTLP/HTTP traces URL (implies --otel)
  --command CMD, --arg ARG   the server, instead of -- CMD ARGS (--arg takes values
                             that start with a hyphen)
  --url URL                  a remote server (MCP Streamable HTTP) instead of a command;
                             https, or http to this machine only
  --header 'Name: value'     sent with every request to --url (repeatable); \${VAR} in
                             the value is taken from AgentK's environment; values are
                             never shown or traced
  --allow-insecure-http      let --url be plain http to another machine (in the clear)
  --oauth                    authenticate to --url with the OAuth tokens agentk login
                             stored for this --server-id and --url (refreshed when they
                             expire); without them, one line says to run agentk login
  --sandbox                  run the server under bubblewrap: the workspace, its program and
                             the system read-only or as configured, an empty $HOME, no
                             network (or the table's allow-list, through AgentK's
                             filtering proxy), resource limits (the policy's [sandbox.<server-id>]
                             table sets the profile and turns this on by itself); fails
                             if the host cannot (agentk sandbox-check says why)

AgentK keeps its state out of the agent's workspace, in $AGENTK_HOME (default
$XDG_STATE_HOME/agentk, else ~/.local/state/agentk): workspaces/<name>-<hash>/runs and
pins for the directory the proxy runs in, and approvals shared by all. No tool call may
read or change that directory, the policy, the signing key file or a .agentk/ directory
in the workspace (kernel.protected-path).`,
  options: PROXY_OPTIONS,
  positionals: [0, 0],
  hyphenValues: ['arg'],
  takesRest: true,
  async run(args, io): Promise<ExitCode> {
    const config = proxyConfig(args);
    if (config.stderrFile !== undefined) checkAppendable(config.stderrFile);
    const quiet = flag(args, 'quiet');
    const verbose = flag(args, 'verbose');
    if (quiet && verbose) throw usageError('give --quiet or --verbose, not both');
    // Before anything is written: an unset header variable or a missing sign-in is refused.
    const credentials = await remoteCredentials(config, io);
    const say = (line: string) => io.stderr(`agentk ${config.serverId}: ${line}\n`);
    const run = await openProxyRun({
      config,
      args,
      io,
      credentials,
      quiet,
      verbose,
      input: io.stdin ?? new PassThrough(),
      output: io.stdoutStream ?? new PassThrough(),
      endOutput: io.stdoutStream === undefined,
      say,
    });
    const { proxy } = run;
    // Every signal that would end the process ends the session instead: answered, sealed,
    // and the server stopped.
    const stop = (signal: NodeJS.Signals) => proxy.stop(`stopped by ${signal}`);
    for (const signal of STOP_SIGNALS) process.once(signal, stop);
    await proxy.start();
    const exit = await proxy.done;
    await run.finish(exit);
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
    // A server that never started: one line, the error (the trace has nothing to show).
    if (exit.code === 2) {
      say(exit.reason);
      return EXIT.usage;
    }
    return exit.code === 0 ? EXIT.ok : EXIT.failed;
  },
};
