// One proxy session as the proxy commands run it (`mcp-proxy-stdio` once per process,
// `mcp-proxy-http` once per MCP session): its kernel and trace, its server (a child, or a
// remote one with --url), the line at start, and the closing lines. The client's side is
// given: stdin and stdout, or the HTTP endpoint's bridge.

import type { Readable, Writable } from 'node:stream';
import { clearLive } from '../config/runs.js';
import { STATE_HOME_ENV } from '../config/state.js';
import { approvalFiles } from '../evidence/approvals.js';
import { loadSigner } from '../evidence/keys.js';
import { PinStore } from '../kernel/catalogue/pins.js';
import { Kernel } from '../kernel/kernel.js';
import { newRunId } from '../kernel/options.js';
import { RemoteProxy } from '../mcp/proxy/remote.js';
import { childEnvironment, StdioProxy } from '../mcp/proxy/stdio.js';
import type { ProxyExit } from '../mcp/proxy/types.js';
import { loadPolicyFile } from '../policy/load.js';
import type { Policy } from '../policy/types.js';
import { telemetryLine } from '../telemetry/config.js';
import { anchorSessionSeal } from './anchors.js';
import { flag, type ParsedArgs, usageError } from './command.js';
import { type CliIo, shellWord } from './io.js';
import {
  keepRunsBounded,
  latestTarget,
  type ProxyConfig,
  pointLatest,
  restoreLatest,
  serverRoots,
  statePlaces,
} from './proxy-places.js';
import {
  deathReport,
  lineSplitter,
  serverLine,
  summaryLine,
  withheldLine,
  withheldNames,
} from './proxy-report.js';
import { proxyTelemetry } from './proxy-telemetry.js';
import type { RemoteCredentials } from './remote-auth.js';
import {
  recordSandboxStart,
  type SandboxSetup,
  sandboxEnded,
  sandboxSetup,
  withSandboxNetwork,
} from './sandbox-setup.js';

export interface ProxyRunOptions {
  readonly config: ProxyConfig;
  readonly args: ParsedArgs;
  readonly io: CliIo;
  /** The --header values, expanded, and the --oauth sign-in (credentials: never shown). */
  readonly credentials: RemoteCredentials;
  readonly quiet: boolean;
  readonly verbose: boolean;
  /** The client's side. */
  readonly input: Readable;
  readonly output: Writable;
  readonly endOutput: boolean;
  /** One line on stderr, named for this session. */
  readonly say: (line: string) => void;
}

export interface ProxyRun {
  readonly proxy: StdioProxy | RemoteProxy;
  readonly runId: string;
  readonly trace: string;
  /** Requests denied or asked so far. */
  refused(): number;
  /** After `proxy.done`: the closing lines (why the server died, the summary, the anchored seal). */
  finish(exit: ProxyExit): Promise<void>;
}

/** A line of the server's log is kept whole up to this many characters (the rest clipped). */
const LOG_LINE_CHARS = 64 * 1024;

/** Open one session: its kernel and trace, and its proxy (not started yet). */
export async function openProxyRun(options: ProxyRunOptions): Promise<ProxyRun> {
  const { config, io, quiet, verbose, say } = options;
  const runId = newRunId();
  const parts = await sessionKernel(config, options.args, io, runId, say);
  const { kernel, place, policy, telemetry, sandbox, latestBefore } = parts;
  const withheld = config.remote ? [] : withheldNames(io.env, config.allowEnv);
  let refused = 0;
  let limit: { readonly message: string } | null = null; // a sandbox limit the server hit
  const childEnv = childEnvironment(io.env, config.allowEnv);
  if (!quiet) announce(config, place, withheld, verbose ? childEnv : null, say);
  const session = {
    kernel,
    serverId: config.serverId,
    input: options.input,
    output: options.output,
    endOutput: options.endOutput,
    responseTimeoutMs: config.timeoutMs,
    maxRequestMs: config.maxRequestMs,
    maxMessageBytes: config.maxBytes,
    serialize: config.serialize,
    durable: config.fsync,
    approvalTimeoutMs: config.approvalTimeoutMs,
    onDenial: (line: string) => {
      refused += 1;
      if (!quiet) say(line);
    },
  };
  const proxy = config.remote
    ? new RemoteProxy({
        ...session,
        url: config.remote.url,
        shown: config.remote.shown,
        ...options.credentials,
        onRemoteError: (line) => say(`remote: ${line}`),
      })
    : new StdioProxy({
        ...session,
        command: config.command,
        args: config.args,
        env: childEnv,
        cwd: io.cwd,
        ...(verbose
          ? { onStderr: lineSplitter((line) => say(`server: ${serverLine(line, childEnv, 2000)}`)) }
          : {}),
        // The log keeps what the server said, with the values it was given and credential
        // formats redacted, as on the terminal: secrets never reach a log.
        ...(place.log !== null
          ? {
              stderrFile: place.log,
              stderrLine: (line: string) => serverLine(line, childEnv, LOG_LINE_CHARS),
            }
          : {}),
        ...(sandbox.plan !== undefined ? { sandbox: sandbox.plan } : {}),
        onServerExit: (exit) => {
          limit = sandboxEnded(sandbox, kernel, exit, (proxy as StdioProxy).stderrTail(64));
        },
      });
  const finish = async (exit: ProxyExit) => {
    await sandbox.network?.close();
    if (place.ownRuns !== null) clearLive(place.trace);
    // The seal counts the events before it (the recorder's count includes the seal).
    const recorded = exit.seal !== null ? exit.seal.seal.event_count : kernel.eventCount;
    if (place.latest !== null && recorded === 0) {
      restoreLatest(place.latest, place.trace, latestBefore);
    }
    // After the seal, whose span closes the session's (the wait is bounded, signals caught).
    if (telemetry) say(telemetryLine(await telemetry.shutdown()));
    if (exit.code === 2) return; // never started: the caller says why
    if (exit.code === 1 && proxy instanceof StdioProxy) {
      const died = proxy.stderrTail(20);
      for (const line of deathReport(died, place.log, withheld, childEnv)) say(line);
    }
    if (limit !== null) say(limit.message);
    say(summaryLine(exit, refused, place.trace));
    await anchorSessionSeal(exit.seal, policy, io.env, quiet ? null : say, say);
    if (refused > 0 && !quiet) say(`agentk why ${runId} explains each refusal and its rule`);
  };
  return { proxy, runId, trace: place.trace, refused: () => refused, finish };
}

/**
 * The session's kernel, recording where statePlaces says (and exporting its events when
 * telemetry is on), with the places, the policy and the telemetry.
 */
async function sessionKernel(
  config: ProxyConfig,
  args: ParsedArgs,
  io: CliIo,
  runId: string,
  say: (line: string) => void,
) {
  const policy = loadPolicyFile(config.policyPath);
  const shadowPolicy =
    config.shadowPolicyPath === undefined ? undefined : loadPolicyFile(config.shadowPolicyPath);
  const signer = loadSigner(io.env);
  const roots = serverRoots(config.args, io.cwd);
  const place = statePlaces(config, io, runId, roots, say);
  // Before the kernel opens its trace: a sandbox the host cannot give stops everything here.
  const sandbox = await withSandboxNetwork(
    serverSandbox(config, args, io, policy, place.protected, say),
    config.serverId,
  );
  const telemetry = await proxyTelemetry(args, policy, config.serverId, io, say);
  const kernel = new Kernel({
    policy,
    signer,
    runId,
    trace: { path: place.trace, durability: config.fsync ? 'group' : 'flush' },
    pins: new PinStore(place.pins),
    ...(shadowPolicy ? { shadowPolicy } : {}),
    ...(telemetry ? { onEvent: telemetry.onEvent } : {}),
    approvalSource: approvalFiles(place.approvals, signer),
    // The denial names the exact command, runnable from any directory: the approvals
    // directory is named unless it is the one a shell of this user finds on its own.
    approveCommand: (hash) =>
      defaultApprovals(config, io.env)
        ? `agentk approve ${hash}`
        : `agentk approve ${hash} --approvals-dir ${shellWord(place.approvals)}`,
    ...(config.agentId !== undefined ? { agentId: config.agentId } : {}),
    roots,
    // The server runs here: its relative paths resolve against it.
    cwd: io.cwd,
    protectedPaths: place.protected,
  });
  sandbox.network?.attach(kernel);
  recordSandboxStart(sandbox, kernel);
  const latestBefore = place.latest !== null ? latestTarget(place.latest) : null;
  if (place.latest !== null) pointLatest(place.latest, place.trace);
  if (place.ownRuns !== null) keepRunsBounded(place.ownRuns, place.trace, io.env, say);
  return { kernel, place, policy, telemetry, sandbox, latestBefore };
}

/**
 * Approvals go where `agentk approve` puts them from any shell of this user: no
 * `--approvals-dir`, and no state directory chosen by a variable the client may have set
 * for this process alone.
 */
function defaultApprovals(
  config: ProxyConfig,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return (
    config.approvalsDir === undefined &&
    (env[STATE_HOME_ENV] ?? '') === '' &&
    (env.XDG_STATE_HOME ?? '') === ''
  );
}

/** The sandbox of a server AgentK starts (a remote server runs elsewhere: none). */
function serverSandbox(
  config: ProxyConfig,
  args: ParsedArgs,
  io: CliIo,
  policy: Policy,
  hidden: readonly string[],
  say: (line: string) => void,
): SandboxSetup {
  const asked = flag(args, 'sandbox');
  if (config.remote) {
    if (asked) throw usageError('--sandbox confines a server AgentK starts, not a --url server');
    return { plan: undefined, profile: undefined };
  }
  const env = childEnvironment(io.env, config.allowEnv);
  return sandboxSetup(policy, config.serverId, io.cwd, hidden, {
    flag: asked,
    quiet: flag(args, 'quiet'),
    say,
    env,
  });
}

/** The line at start (and, with --verbose, what the server gets and where its log goes). */
function announce(
  config: ProxyConfig,
  place: { readonly trace: string; readonly log: string | null },
  withheld: readonly string[],
  /** With --verbose: the environment the server gets (its names are shown). */
  serverEnv: Readonly<Record<string, string>> | null,
  say: (line: string) => void,
): void {
  say(
    `mediating ${config.remote?.shown ?? config.command} under ${config.policyPath}; trace ${place.trace}`,
  );
  const line = withheldLine(withheld, serverEnv !== null);
  if (line !== null) say(line);
  if (serverEnv !== null && config.remote === null) {
    const passed = Object.keys(serverEnv).join(', ');
    say(`server environment: ${passed}; server log ${place.log ?? 'none'}`);
  }
}
