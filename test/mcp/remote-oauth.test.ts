// OAuth 2.1 to a remote MCP server, end to end with real parts: the SDK's own
// authorization server and bearer-protected Streamable HTTP server in this process
// (helpers/oauth-server.ts), the built binary's `agentk login` followed as a browser would
// (helpers/oauth-login.ts), then `mcp-proxy-stdio --url --oauth` driven by the official
// SDK client over stdio. No token, code or verifier may reach stderr, the trace, or
// anything the client receives; the token file is 0600 in a 0700 directory.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { followSignIn, startLogin } from '../helpers/oauth-login.js';
import { type OAuthTestServer, oauthProtectedServer } from '../helpers/oauth-server.js';
import { FAULT_POLICY } from '../helpers/proxy.js';
import { BIN, tempTrace } from '../helpers/real.js';
import { connectCapturing, remoteProxied } from '../helpers/remote.js';

/** A fresh state directory, signed in to `server` as `fault` (the login's output kept). */
async function signedIn(server: OAuthTestServer) {
  const home = mkdtempSync(join(tmpdir(), 'agentk-oauth-'));
  const login = startLogin(home, 'fault', server.url);
  const url = await login.authorizationUrl;
  const browser = await followSignIn(url);
  const done = await login.done;
  const code = new URL(browser.callback).searchParams.get('code') as string;
  return { home, url, browser, done, code };
}

function tokenFiles(home: string): string[] {
  try {
    return readdirSync(join(home, 'oauth')).map((name) => join(home, 'oauth', name));
  } catch {
    return [];
  }
}

/** The proxy binary in front of `url` with --oauth, an SDK client on it, all it receives kept. */
function proxied(home: string, url: string) {
  const trace = tempTrace();
  const command = remoteProxied('fault', trace, url, ['--policy', FAULT_POLICY, '--oauth']);
  return { ...connectCapturing(command, { AGENTK_HOME: home }), trace };
}

/** No issued token, and not the code, on stderr, in the trace or in what the client got. */
function expectNothingSecret(
  server: OAuthTestServer,
  places: { stderr: string; trace: string; received: readonly string[] },
  code: string,
): void {
  const secrets = [...server.issuedTokens(), code];
  expect(secrets.length).toBeGreaterThan(2);
  const trace = readFileSync(places.trace, 'utf8');
  for (const secret of secrets) {
    expect(places.stderr).not.toContain(secret);
    expect(trace).not.toContain(secret);
    expect(places.received.join('\n')).not.toContain(secret);
  }
}

describe('agentk login, then mcp-proxy-stdio --url --oauth', () => {
  it('signs in (registration, PKCE, state), stores the tokens 0600, and the proxy uses them unseen', async () => {
    const server = await oauthProtectedServer();
    const { home, url, browser, done, code } = await signedIn(server);
    const authorization = new URL(url);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(authorization.searchParams.get('redirect_uri')).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/callback$/,
    );
    expect(browser.status).toBe(200);
    expect(done.code).toBe(0);
    expect(done.stderr).toMatch(/signed in to http:\/\/127\.0\.0\.1:\d+\/mcp as fault;/);
    expect(done.stdout).toBe('');
    expect(server.counts).toMatchObject({ registrations: 1, codes: 1 });
    for (const secret of [...server.issuedTokens(), code])
      expect(done.stderr).not.toContain(secret);
    const [file, ...others] = tokenFiles(home);
    expect(others).toEqual([]);
    expect(statSync(file as string).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'oauth')).mode & 0o777).toBe(0o700);
    const kept = readFileSync(file as string, 'utf8');
    expect(kept).toContain(server.issuedTokens()[0]); // the file is where the tokens are
    expect(kept).not.toContain(code); // the code was spent; the PKCE verifier never written
    expect(kept).not.toContain('code_verifier');

    const run = proxied(home, server.url);
    const client = await run.connecting;
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['echo']);
    const answer = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    expect(answer.content).toEqual([{ type: 'text', text: 'echo: hello' }]);
    await client.close();
    expect(server.counts.mcpCalls).toBe(1);
    expectNothingSecret(server, { ...run, stderr: run.stderr() }, code);
  });

  it('refreshes an expired access token in a session (a 401) and before one (its expiry passed)', async () => {
    const server = await oauthProtectedServer();
    const { home, code } = await signedIn(server);
    const [file] = tokenFiles(home);
    const before = readFileSync(file as string, 'utf8');
    server.expireAccessTokens(); // the server refuses the stored token from now on
    const run = proxied(home, server.url);
    const client = await run.connecting;
    const answer = await client.callTool({ name: 'echo', arguments: { text: 'after refresh' } });
    expect(answer.content).toEqual([{ type: 'text', text: 'echo: after refresh' }]);
    await client.close();
    expect(server.counts.refreshes).toBe(1);
    const after = readFileSync(file as string, 'utf8');
    expect(after).not.toBe(before); // the new tokens replaced the old ones
    expect(statSync(file as string).mode & 0o777).toBe(0o600);
    expectNothingSecret(server, { ...run, stderr: run.stderr() }, code);

    // Tokens advertised as expiring at once: the proxy refreshes before its first request,
    // though the server would still take the old token.
    server.advertiseExpiresIn(0);
    const again = await signedIn(server);
    const early = proxied(again.home, server.url);
    const second = await early.connecting;
    await second.listTools();
    await second.close();
    expect(server.counts.refreshes).toBe(2);
  });

  it('fails with one line naming agentk login when nothing is stored or the refresh is refused', async () => {
    const server = await oauthProtectedServer();
    const empty = mkdtempSync(join(tmpdir(), 'agentk-oauth-none-'));
    const none = spawnSync(
      process.execPath,
      [BIN, 'mcp-proxy-stdio', '--server-id', 'fault', '--url', server.url, '--oauth'],
      { env: { PATH: process.env.PATH ?? '', AGENTK_HOME: empty }, input: '', encoding: 'utf8' },
    );
    expect(none.status).toBe(2);
    expect(none.stderr).toBe(
      `agentk mcp-proxy-stdio: --oauth: no sign-in stored for fault at ${server.url}: run agentk login --server-id fault --url ${server.url}\n`,
    );

    const { home, code } = await signedIn(server);
    server.expireAccessTokens();
    server.refuseRefresh();
    const run = proxied(home, server.url);
    await expect(run.connecting).rejects.toThrow();
    await run.exited;
    expect(run.stderr()).toContain(
      `remote: not signed in to ${server.url} as fault (the stored token was refused and could not be refreshed): run agentk login --server-id fault --url ${server.url}`,
    );
    expectNothingSecret(server, { ...run, stderr: run.stderr() }, code);
  });

  it('after agentk logout, a running session stops at its next refusal and registers nothing', async () => {
    const server = await oauthProtectedServer();
    const { home, code } = await signedIn(server);
    const run = proxied(home, server.url);
    const client = await run.connecting;
    await client.callTool({ name: 'echo', arguments: { text: 'before' } });
    const out = spawnSync(
      process.execPath,
      [BIN, 'logout', '--server-id', 'fault', '--url', server.url],
      { env: { PATH: process.env.PATH ?? '', AGENTK_HOME: home }, encoding: 'utf8' },
    );
    expect(out.status).toBe(0);
    expect(tokenFiles(home)).toEqual([]);
    server.expireAccessTokens();
    await expect(client.callTool({ name: 'echo', arguments: { text: 'after' } })).rejects.toThrow(
      'no sign-in is stored',
    );
    await run.exited;
    expect(run.stderr()).toContain(`run agentk login --server-id fault --url ${server.url}`);
    expect(server.counts).toMatchObject({ registrations: 1, refreshes: 0 });
    expect(tokenFiles(home)).toEqual([]); // not written back
    expectNothingSecret(server, { ...run, stderr: run.stderr() }, code);
  });
});
