// `agentk login` and `agentk logout`: sign in to a remote MCP server with OAuth 2.1 (the
// authorization code with PKCE, the client registered dynamically) once, at a terminal,
// so that `agentk mcp-proxy-stdio --url URL --oauth` (started later by an MCP client, with
// no person at hand) can send the token, and refresh it, on its own; and forget it again.
// The tokens are kept in the state directory (oauth/, 0600), never printed.

import { spawn } from 'node:child_process';
import { SERVER_ID } from '../../config/clients.js';
import { oauthFile, removeOAuthFile } from '../../config/oauth-store.js';
import { type Command, flag, type ParsedArgs, stringOption, usageError } from '../command.js';
import { type CliIo, EXIT, type ExitCode } from '../io.js';
import { loginCommandLine } from '../remote-auth.js';
import { type RemoteConfig, remoteOptions } from '../remote-options.js';

const DEFAULT_TIMEOUT_MS = 300_000;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

interface Target {
  readonly serverId: string;
  readonly remote: RemoteConfig;
  readonly path: string;
}

/** The server id and URL both commands take, and the token file they name. */
function target(args: ParsedArgs, io: CliIo): Target {
  const serverId = stringOption(args, 'server-id');
  if (serverId === undefined || !SERVER_ID.test(serverId)) {
    throw usageError(
      '--server-id ID is required: 1-64 of A-Z a-z 0-9 . _ -, the one mcp-proxy-stdio is given',
    );
  }
  const remote = remoteOptions(args);
  if (remote === null) throw usageError('--url URL is required: the remote MCP server');
  return { serverId, remote, path: oauthFile(io.env, io.cwd, serverId, remote.url) };
}

function timeoutOption(args: ParsedArgs): number {
  const text = stringOption(args, 'timeout-ms');
  if (text === undefined) return DEFAULT_TIMEOUT_MS;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 3_600_000) {
    throw usageError('--timeout-ms must be a whole number from 1 to 3600000');
  }
  return value;
}

/** Open `url` in the desktop's browser; a failure is a line, the URL is on stderr anyway. */
function openBrowser(url: URL, say: (line: string) => void): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url.href]]
      : process.platform === 'win32'
        ? ['rundll32', ['url.dll,FileProtocolHandler', url.href]]
        : ['xdg-open', [url.href]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => say(`could not start ${command}; open the URL above yourself`));
    child.unref();
  } catch {
    say(`could not start ${command}; open the URL above yourself`);
  }
}

function minutes(expiresAt: number | null): string {
  if (expiresAt === null) return 'no expiry given';
  const left = Math.max(0, Math.round((expiresAt - Date.now()) / 60_000));
  return `the access token expires in ${left} min`;
}

export const loginCommand: Command = {
  name: 'login',
  usage: `agentk login --server-id ID --url URL [--open] [--scope SCOPE] [--timeout-ms N]

Signs in to a remote MCP server with OAuth 2.1 (authorization code with PKCE; AgentK
registers itself as a client), so that mcp-proxy-stdio --server-id ID --url URL --oauth
can use and refresh the tokens without you. Run it at a terminal: it listens on
127.0.0.1 (a free port) for the redirect, prints the URL to open on stderr, and waits.
The tokens go to the state directory's oauth/ (mode 0600; $AGENTK_HOME, see
mcp-proxy-stdio --help), one file per server id and URL; they are never printed.

  --server-id ID          the name mcp-proxy-stdio is given (required)
  --url URL               the remote MCP server (required); https, or http to this machine
  --open                  also open the URL in the desktop's browser
  --scope SCOPE           the scopes to ask for (default: what the server advertises)
  --timeout-ms N          how long to wait for the sign-in (default ${DEFAULT_TIMEOUT_MS})
  --allow-insecure-http   allow plain http to another machine (the server and its
                          authorization server), in the clear`,
  options: {
    'server-id': { type: 'string' },
    url: { type: 'string' },
    open: { type: 'boolean' },
    scope: { type: 'string' },
    'timeout-ms': { type: 'string' },
    'allow-insecure-http': { type: 'boolean' },
  },
  positionals: [0, 0],
  async run(args, io): Promise<ExitCode> {
    const { serverId, remote, path } = target(args, io);
    const scope = stringOption(args, 'scope');
    if (scope !== undefined && !SCOPE.test(scope))
      throw usageError('--scope is not an OAuth scope list');
    const timeoutMs = timeoutOption(args);
    const say = (line: string) => io.stderr(`agentk login: ${line}\n`);
    const { signIn } = await import('../../mcp/oauth/flow.js');
    try {
      const obtained = await signIn({
        serverId,
        url: remote.url,
        shown: remote.shown,
        path,
        scope,
        insecure: remote.insecure,
        timeoutMs,
        loginCommand: loginCommandLine(serverId, remote),
        showUrl: (url) => {
          say(`open this URL in a browser to sign in to ${remote.shown}:`);
          io.stderr(`\n  ${url.href}\n\n`);
          say(`waiting for the sign-in (at most ${Math.ceil(timeoutMs / 1000)} s)...`);
          if (flag(args, 'open')) openBrowser(url, say);
        },
      });
      const refresh = obtained.refreshable ? 'refreshed by the proxy' : 'no refresh token';
      say(
        `signed in to ${remote.shown} as ${serverId}; ${minutes(obtained.expiresAt)} (${refresh}); stored in ${path}`,
      );
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof Error) || error.name !== 'LoginFailure') throw error;
      say(error.message);
      return EXIT.failed;
    }
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  usage: `agentk logout --server-id ID --url URL

Forgets what agentk login stored for this server id and URL (its tokens and client
registration). The authorization server is not told: revoke the access there too if the
tokens may have been seen by someone else.`,
  options: {
    'server-id': { type: 'string' },
    url: { type: 'string' },
    'allow-insecure-http': { type: 'boolean' },
  },
  positionals: [0, 0],
  run(args, io): ExitCode {
    const { serverId, remote, path } = target(args, io);
    const line = removeOAuthFile(path)
      ? `forgot the sign-in of ${serverId} at ${remote.shown} (${path})`
      : `no sign-in stored for ${serverId} at ${remote.shown}`;
    io.stderr(`agentk logout: ${line}\n`);
    return EXIT.ok;
  },
};
