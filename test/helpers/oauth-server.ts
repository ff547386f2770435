// A real OAuth-protected remote MCP server, in the test process, built from the official
// SDK's server side only: its authorization server router (metadata, dynamic client
// registration, /authorize, /token with PKCE checked by the SDK), its bearer middleware
// in front of a Streamable HTTP MCP server, and a small in-memory provider that approves
// every sign-in at once (no login page) and whose token lifetimes the test controls: what
// the token answers advertise (expires_in), and which access tokens it still accepts,
// so that expiry is a switch, never a race with the clock.

import { randomUUID } from 'node:crypto';
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  InvalidGrantError,
  InvalidTokenError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type {
  AuthorizationParams,
  OAuthServerProvider,
} from '@modelcontextprotocol/sdk/server/auth/provider.js';
import {
  getOAuthProtectedResourceMetadataUrl,
  mcpAuthRouter,
} from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type {
  OAuthClientInformationFull,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll } from 'vitest';

/** What express adds to node's request and response, as far as this file uses it. */
type Req = IncomingMessage & { body?: unknown };
type Res = ServerResponse & {
  status(code: number): Res;
  redirect(status: number, url: string): void;
};

const servers: HttpServer[] = [];
afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

export interface OAuthTestServer {
  /** The MCP endpoint (behind bearer auth). */
  readonly url: string;
  /** Counts of what the authorization server did. */
  readonly counts: { registrations: number; codes: number; refreshes: number; mcpCalls: number };
  /** Every access and refresh token issued so far (to look for them where they must not be). */
  issuedTokens(): string[];
  /** What the next token answers advertise as expires_in (seconds). */
  advertiseExpiresIn(seconds: number): void;
  /** Every access token issued so far is refused from now on (expired, as far as it knows). */
  expireAccessTokens(): void;
  /** Refuse refresh tokens (invalid_grant) from now on. */
  refuseRefresh(): void;
}

class AutoApprovingProvider implements OAuthServerProvider {
  readonly clients = new Map<string, OAuthClientInformationFull>();
  readonly codes = new Map<string, { client: string; params: AuthorizationParams }>();
  readonly access = new Map<string, { client: string; live: boolean }>();
  readonly refresh = new Map<string, string>();
  readonly counts = { registrations: 0, codes: 0, refreshes: 0, mcpCalls: 0 };
  /** Every token ever issued. */
  readonly issued: string[] = [];
  expiresIn = 3600;
  refuseRefresh = false;

  readonly clientsStore = {
    getClient: (id: string) => this.clients.get(id),
    registerClient: (client: OAuthClientInformationFull) => {
      this.counts.registrations += 1;
      this.clients.set(client.client_id, client);
      return client;
    },
  };

  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Res) {
    const code = randomUUID();
    this.codes.set(code, { client: client.client_id, params });
    const target = new URL(params.redirectUri);
    target.searchParams.set('code', code);
    if (params.state !== undefined) target.searchParams.set('state', params.state);
    res.redirect(302, target.href);
  }

  async challengeForAuthorizationCode(_client: OAuthClientInformationFull, code: string) {
    const found = this.codes.get(code);
    if (!found) throw new InvalidGrantError('unknown code');
    return found.params.codeChallenge;
  }

  async exchangeAuthorizationCode(client: OAuthClientInformationFull, code: string) {
    const found = this.codes.get(code);
    if (!found || found.client !== client.client_id) throw new InvalidGrantError('unknown code');
    this.codes.delete(code);
    this.counts.codes += 1;
    return this.#issue(client.client_id);
  }

  async exchangeRefreshToken(client: OAuthClientInformationFull, token: string) {
    if (this.refuseRefresh || this.refresh.get(token) !== client.client_id) {
      throw new InvalidGrantError('refresh token refused');
    }
    this.refresh.delete(token); // rotated
    this.counts.refreshes += 1;
    return this.#issue(client.client_id);
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const found = this.access.get(token);
    if (!found?.live) throw new InvalidTokenError('expired or unknown token');
    return {
      token,
      clientId: found.client,
      scopes: ['mcp:tools'],
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    };
  }

  #issue(client: string): OAuthTokens {
    const accessToken = `at-${randomUUID()}`;
    const refreshToken = `rt-${randomUUID()}`;
    this.access.set(accessToken, { client, live: true });
    this.refresh.set(refreshToken, client);
    this.issued.push(accessToken, refreshToken);
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: this.expiresIn,
      refresh_token: refreshToken,
      scope: 'mcp:tools',
    };
  }
}

/** A stateless MCP server with one tool, `echo`, for one request. */
async function answerMcp(req: Req, res: Res, counts: { mcpCalls: number }): Promise<void> {
  const server = new Server(
    { name: 'oauth-remote', version: '1.0.0' },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      {
        name: 'echo',
        description: 'Echoes its text',
        inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    counts.mcpCalls += 1;
    return { content: [{ type: 'text', text: `echo: ${String(request.params.arguments?.text)}` }] };
  });
  // Stateless (no session id generator): one server per request.
  const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
}

/** The authorization server and the protected MCP server, on one loopback port. */
export async function oauthProtectedServer(): Promise<OAuthTestServer> {
  const provider = new AutoApprovingProvider();
  const app = createMcpExpressApp({ host: '127.0.0.1' });
  const http: HttpServer = await new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
  servers.push(http);
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const mcpUrl = new URL(`${base}/mcp`);
  const off = { rateLimit: false as const };
  app.use(
    mcpAuthRouter({
      provider,
      issuerUrl: new URL(base),
      resourceServerUrl: mcpUrl,
      scopesSupported: ['mcp:tools'],
      authorizationOptions: off,
      tokenOptions: off,
      clientRegistrationOptions: off,
    }),
  );
  const bearer = requireBearerAuth({
    verifier: provider,
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpUrl),
  });
  app.post('/mcp', bearer, (req: Req, res: Res) => void answerMcp(req, res, provider.counts));
  app.get('/mcp', bearer, (_req: Req, res: Res) => res.status(405).end());
  app.delete('/mcp', bearer, (_req: Req, res: Res) => res.status(405).end());
  return {
    url: mcpUrl.href,
    counts: provider.counts,
    issuedTokens: () => [...provider.issued],
    advertiseExpiresIn: (seconds) => {
      provider.expiresIn = seconds;
    },
    expireAccessTokens: () => {
      for (const entry of provider.access.values()) entry.live = false;
    },
    refuseRefresh: () => {
      provider.refuseRefresh = true;
    },
  };
}
