// What a remote session (mcp-proxy-stdio --url) authenticates with: its --header values
// (filled from the environment), or with --oauth the tokens `agentk login` stored for its
// server id and URL. Checked before anything is written: no sign-in stored, or an expired
// token that cannot be refreshed, is one line that says to run `agentk login` (a proxy
// started by an MCP client has no person at a terminal, so it never starts a sign-in).
// The OAuth code (and the SDK's client auth) is loaded only with --oauth.

import { oauthFile } from '../config/oauth-store.js';
import type { RemoteOAuth } from '../mcp/proxy/remote.js';
import { usageError } from './command.js';
import type { CliIo } from './io.js';
import { shellWord } from './io.js';
import type { ProxyConfig } from './proxy-places.js';
import { expandHeaders, type RemoteConfig } from './remote-options.js';

export interface RemoteCredentials {
  readonly headers: Record<string, string>;
  readonly oauth?: RemoteOAuth;
}

/** The command that signs in to `remote` as `serverId` (a URL with a query is not repeated). */
export function loginCommandLine(serverId: string, remote: RemoteConfig): string {
  const plain = remote.url.search === '' && remote.url.hash === '';
  const url = plain ? shellWord(remote.shown) : '<the same --url>';
  return `agentk login --server-id ${shellWord(serverId)} --url ${url}`;
}

/** The headers, and with --oauth the stored sign-in (refreshed first if it has expired). */
export async function remoteCredentials(
  config: ProxyConfig,
  io: CliIo,
): Promise<RemoteCredentials> {
  const remote = config.remote;
  if (remote === null) return { headers: {} };
  const headers = expandHeaders(remote, io.env);
  if (!remote.oauth) return { headers };
  const login = loginCommandLine(config.serverId, remote);
  const path = oauthFile(io.env, io.cwd, config.serverId, remote.url);
  const { StoredOAuthProvider } = await import('../mcp/oauth/provider.js');
  const { authFailureWords, authFetch, refreshSession } = await import('../mcp/oauth/flow.js');
  const provider = new StoredOAuthProvider({
    mode: 'session',
    path,
    serverId: config.serverId,
    shown: remote.shown,
    loginCommand: login,
  });
  if (!provider.signedIn) {
    throw usageError(
      `--oauth: no sign-in stored for ${config.serverId} at ${remote.shown}: run ${login}`,
    );
  }
  const fetch = authFetch(remote.insecure);
  if (provider.expiring) {
    if (!provider.refreshable) {
      throw usageError(
        `--oauth: the stored access token has expired and cannot be refreshed: run ${login}`,
      );
    }
    try {
      await refreshSession(provider, remote.url, fetch);
    } catch (error) {
      const words = authFailureWords(error);
      if (error instanceof Error && error.name === 'LoginRequiredError') {
        throw usageError(`--oauth: ${words}`);
      }
      throw usageError(
        `--oauth: refreshing the expired access token failed (${words}): run ${login}`,
      );
    }
  }
  return { headers, oauth: { provider, fetch, login } };
}
