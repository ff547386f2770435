// `agentk mcp-proxy-http`: AgentK as a Streamable HTTP endpoint for HTTP-capable MCP
// clients, in front of a server it starts (-- CMD) or a remote one (--url). Each MCP
// session is a proxy session as `mcp-proxy-stdio` runs it (proxy-run.ts): its own server
// process or upstream connection, kernel and trace.

import { ENV_NAME } from '../../config/clients.js';
import { isLoopbackHost } from '../../config/variables.js';
import { HttpEndpoint } from '../../mcp/proxy/http-endpoint.js';
import { loadPolicyFile } from '../../policy/load.js';
import { type Command, flag, type ParsedArgs, stringOption, usageError } from '../command.js';
import { type CliIo, EXIT, type ExitCode } from '../io.js';
import { openProxyRun } from '../proxy-run.js';
import { remoteCredentials } from '../remote-auth.js';
import { integerOption, PROXY_OPTIONS, proxyConfig, STOP_SIGNALS } from './mcp-proxy-stdio.js';

const DEFAULT_MAX_SESSIONS = 16;
const DEFAULT_IDLE_MS = 30 * 60_000;
/** HTTP requests one session may have open at once (its SSE streams included). */
const MAX_STREAMS = 32;
/** Request headers, in all (node's default is 16 KiB). */
const MAX_HEADER_BYTES = 16 * 1024;
/** A bearer token shorter than this is refused: it could be guessed. */
const MIN_TOKEN_LENGTH = 16;

interface ListenConfig {
  readonly host: string;
  readonly port: number;
  readonly extraHosts: readonly string[];
  readonly origins: readonly string[];
  readonly token: string | null;
  readonly tokenEnv: string | undefined;
  readonly maxSessions: number;
  readonly idleMs: number;
}

/** --listen HOST:PORT and the endpoint's other options, checked before anything starts. */
function listenConfig(args: ParsedArgs, io: CliIo): ListenConfig {
  const listen = stringOption(args, 'listen');
  if (listen === undefined)
    throw usageError('--listen HOST:PORT is required (e.g. 127.0.0.1:8808)');
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) {
    throw usageError('--listen must be HOST:PORT ([::1]:PORT for IPv6; port 0: any free port)');
  }
  const host = (match[1] ?? match[2]) as string;
  const tokenEnv = stringOption(args, 'token-env');
  const token = tokenEnv === undefined ? null : bearerToken(tokenEnv, io);
  if (!isLoopbackHost(host)) {
    if (!flag(args, 'allow-non-loopback')) {
      throw usageError(
        `--listen ${host}: only this machine's loopback addresses (127.0.0.1, [::1], localhost) unless --allow-non-loopback`,
      );
    }
    if (token === null) throw usageError('--allow-non-loopback needs --token-env (a bearer token)');
  }
  return {
    host,
    port,
    extraHosts: hostNames(args),
    origins: origins(args),
    token,
    tokenEnv,
    maxSessions: integerOption(args, 'max-sessions', DEFAULT_MAX_SESSIONS, 1, 1024),
    idleMs: integerOption(args, 'idle-timeout-ms', DEFAULT_IDLE_MS, 1000, 7 * 86_400_000),
  };
}

/** The token from the variable --token-env names (its value is never shown). */
function bearerToken(name: string, io: CliIo): string {
  if (!ENV_NAME.test(name)) throw usageError('--token-env must name an environment variable');
  const value = io.env[name] ?? '';
  if (value === '') throw usageError(`--token-env ${name}: the variable is not set or empty`);
  if (value.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw usageError(
      `--token-env ${name}: the token must be at least ${MIN_TOKEN_LENGTH} printable characters, no spaces`,
    );
  }
  return value;
}

function origins(args: ParsedArgs): string[] {
  return ((args.values['allow-origin'] as string[] | undefined) ?? []).map((text, i) => {
    let origin = '';
    try {
      origin = new URL(text).origin;
    } catch {}
    if (origin === '' || origin === 'null' || origin !== text.replace(/\/$/, '').toLowerCase()) {
      throw usageError(`--allow-origin #${i + 1} must be an origin: scheme://host[:port]`);
    }
    return origin;
  });
}

function hostNames(args: ParsedArgs): string[] {
  return ((args.values['allow-host'] as string[] | undefined) ?? []).map((name, i) => {
    if (!/^[A-Za-z0-9.-]{1,253}$/.test(name)) {
      throw usageError(`--allow-host #${i + 1} must be a host name (no port)`);
    }
    return name.toLowerCase();
  });
}

export const mcpProxyHttpCommand: Command = {
  name: 'mcp-proxy-http',
  usage: `agentk mcp-proxy-http --listen HOST:PORT --server-id ID [options] -- CMD [ARGS]...
agentk mcp-proxy-http --listen HOST:PORT --server-id ID [options] --url URL [--header 'Name: value']...

Serves MCP's Streamable HTTP transport at http://HOST:PORT/mcp for HTTP-capable clients.
Each MCP session (each initialize) gets its own server process (or upstream connection to
--url), kernel session and trace, mediated as mcp-proxy-stdio mediates; the trace is
sealed when the client ends the session (DELETE), after it is idle, or at SIGINT/SIGTERM.

  --listen HOST:PORT         where to listen (required); loopback only unless
                             --allow-non-loopback; port 0 picks a free port (printed)
  --allow-origin ORIGIN      a browser origin allowed to connect (repeatable); requests
                             with any other Origin are refused (403)
  --allow-host NAME          a Host name accepted besides localhost, 127.0.0.1, [::1]
                             and the --listen host (repeatable)
  --token-env VAR            require 'Authorization: Bearer <value of VAR>' (401 without)
  --allow-non-loopback       let --listen be another address (needs --token-env)
  --max-sessions N           sessions at once (default ${DEFAULT_MAX_SESSIONS}); more: 503
  --idle-timeout-ms N        end a session with no traffic and nothing in flight for this
                             long (default ${DEFAULT_IDLE_MS})

Every other option is mcp-proxy-stdio's (agentk mcp-proxy-stdio --help); --trace-out must
contain {run}, so that each session has its own trace file.`,
  options: {
    ...PROXY_OPTIONS,
    listen: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true },
    'allow-host': { type: 'string', multiple: true },
    'token-env': { type: 'string' },
    'allow-non-loopback': { type: 'boolean' },
    'max-sessions': { type: 'string' },
    'idle-timeout-ms': { type: 'string' },
  },
  positionals: [0, 0],
  hyphenValues: ['arg'],
  takesRest: true,
  async run(args, io): Promise<ExitCode> {
    const config = proxyConfig(args);
    const listen = listenConfig(args, io);
    if (config.tracePath !== undefined && !config.tracePath.includes('{run}')) {
      throw usageError('--trace-out must contain {run}: each session writes its own trace');
    }
    if (config.stderrFile !== undefined) {
      throw usageError('--stderr-file is not taken here: each server logs to the state directory');
    }
    const quiet = flag(args, 'quiet');
    const verbose = flag(args, 'verbose');
    if (quiet && verbose) throw usageError('give --quiet or --verbose, not both');
    loadPolicyFile(config.policyPath); // a broken policy stops the command, not each session
    const credentials = await remoteCredentials(config, io);
    const log = (line: string) => io.stderr(`agentk ${config.serverId}: ${line}\n`);
    const finishing = new Set<Promise<void>>();
    const endpoint = new HttpEndpoint({
      host: listen.host,
      port: listen.port,
      path: '/mcp',
      extraHosts: listen.extraHosts,
      allowedOrigins: listen.origins,
      token: listen.token,
      maxSessions: listen.maxSessions,
      maxStreams: MAX_STREAMS,
      maxBodyBytes: config.maxBytes,
      maxHeaderBytes: MAX_HEADER_BYTES,
      idleMs: listen.idleMs,
      log,
      open: async (client, sessionId) => {
        const name = `session ${sessionId.slice(0, 8)}`;
        const say = (line: string) => log(`${name}: ${line}`);
        const base = { config, args, io, credentials, quiet, verbose, say, endOutput: true };
        const run = await openProxyRun({ ...base, ...client });
        await run.proxy.start();
        const done = run.proxy.done.then(async (exit) => {
          if (exit.code === 2) say(`the server could not start: ${exit.reason}`);
          await run.finish(exit);
        });
        const settled = done.catch(() => {}).finally(() => finishing.delete(settled));
        finishing.add(settled);
        return run.proxy;
      },
    });
    const url = await endpoint.listen();
    const guard = listen.token === null ? 'no token' : `bearer token from $${listen.tokenEnv}`;
    io.stderr(
      `agentk mcp-proxy-http: listening on ${url.href} (server-id ${config.serverId}; ${guard})\n`,
    );
    let stop: (signal: NodeJS.Signals) => void = () => {};
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      stop = resolve;
      for (const name of STOP_SIGNALS) process.once(name, stop);
    });
    log(`stopping (${signal}): ending ${endpoint.sessions} session(s)`);
    await endpoint.close(`stopped by ${signal}`);
    await Promise.all([...finishing]);
    for (const name of STOP_SIGNALS) process.off(name, stop);
    io.stderr('agentk mcp-proxy-http: stopped\n');
    return EXIT.ok;
  },
};
