// AgentK's side of the official SDK's OAuth client (`auth()` in
// @modelcontextprotocol/sdk/client/auth.js): the SDK discovers the authorization server,
// registers a client, builds the PKCE challenge, exchanges the code and refreshes; this
// provider keeps what it is given. Two uses:
// - `login`: `agentk login` runs the authorization-code flow once; everything stays in
//   memory (the PKCE verifier never leaves it) until the exchange succeeds, and then one
//   file is written (config/oauth-store.ts).
// - `session`: a proxy (`mcp-proxy-stdio --url --oauth`) reads that file, sends its access
//   token, lets the SDK refresh it (the new tokens replace the file) and never starts a
//   sign-in or registers a client: where the SDK would send a person to a browser, the
//   session fails with LoginRequiredError, which says to run `agentk login`.
// No token, code or verifier is ever in a message.
// Input distrusted: the stored file (checked against the SDK's schemas) and everything the
// authorization server answers (the SDK's schemas check it).

import { createHash, randomBytes } from 'node:crypto';
import type {
  OAuthClientProvider,
  OAuthDiscoveryState,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import {
  fileVersion,
  readOAuthFile,
  type StoredOAuth,
  writeOAuthFile,
} from '../../config/oauth-store.js';

/** An access token this close to its expiry is refreshed before a session starts. */
export const REFRESH_MARGIN_MS = 60_000;

/** The session cannot go on without a person signing in again (`agentk login`). */
export class LoginRequiredError extends Error {
  override readonly name = 'LoginRequiredError';
}

export interface ProviderOptions {
  readonly mode: 'login' | 'session';
  /** The token file (oauthFile). */
  readonly path: string;
  readonly serverId: string;
  /** The MCP server's URL as shown. */
  readonly shown: string;
  /** The command that signs in again, for LoginRequiredError's message. */
  readonly loginCommand: string;
  /** login: the loopback callback (http://127.0.0.1:PORT/callback). */
  readonly redirectUrl?: string;
  readonly scope?: string;
  readonly now?: () => number;
}

type Client = OAuthClientInformationMixed & { redirect_uris?: string[] };

export class StoredOAuthProvider implements OAuthClientProvider {
  readonly #options: ProviderOptions;
  readonly #now: () => number;
  #client: Client | undefined;
  #tokens: OAuthTokens | undefined;
  #expiresAt: number | null = null;
  #discovery: OAuthDiscoveryState | undefined;
  #verifier: string | undefined;
  #state: string | undefined;
  #authorizationUrl: URL | undefined;
  /** session: the version of the file last read (another process may refresh it). */
  #version: string | null = null;
  /** session: tokens the authorization server refused (not offered again). */
  #refused: string | undefined;

  constructor(options: ProviderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    if (options.mode === 'session') this.#reload();
  }

  /** session: whether a sign-in is stored at all. */
  get signedIn(): boolean {
    return this.#client !== undefined && this.#tokens !== undefined;
  }

  /** session: whether the access token is expired or about to be (refresh it first). */
  get expiring(): boolean {
    return this.#expiresAt !== null && this.#expiresAt <= this.#now() + REFRESH_MARGIN_MS;
  }

  /** session: whether there is a refresh token to refresh with. */
  get refreshable(): boolean {
    return typeof this.#tokens?.refresh_token === 'string';
  }

  /** login: the URL the person opens, once `auth()` answered REDIRECT. */
  get authorizationUrl(): URL | undefined {
    return this.#authorizationUrl;
  }

  /** login: the state the callback must carry back. */
  get expectedState(): string | undefined {
    return this.#state;
  }

  /** login: when the access token expires (ms), and whether a refresh token came. */
  get obtained(): { readonly expiresAt: number | null; readonly refreshable: boolean } {
    return { expiresAt: this.#expiresAt, refreshable: this.refreshable };
  }

  get redirectUrl(): string {
    // A session never redirects, but the SDK takes a provider without one for a
    // non-interactive grant: it gets the registered callback.
    return (
      this.#options.redirectUrl ?? this.#client?.redirect_uris?.[0] ?? 'http://127.0.0.1/callback'
    );
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'AgentK',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // A public client: a secret on the user's disk would protect nothing (PKCE does).
      token_endpoint_auth_method: 'none',
      ...(this.#options.scope !== undefined ? { scope: this.#options.scope } : {}),
    };
  }

  state(): string {
    this.#state = randomBytes(32).toString('base64url');
    return this.#state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    if (this.#options.mode === 'session') {
      this.#reload();
      // Gone (agentk logout) or never stored: a session never registers a client itself.
      if (this.#client === undefined) throw this.#loginRequired('no sign-in is stored');
    }
    return this.#client;
  }

  saveClientInformation(information: OAuthClientInformationMixed): void {
    if (this.#options.mode === 'session')
      throw this.#loginRequired('the client registration was refused');
    this.#client = information;
  }

  tokens(): OAuthTokens | undefined {
    if (this.#options.mode === 'session') this.#reload();
    if (this.#tokens !== undefined && this.#refused === tokenKey(this.#tokens)) return undefined;
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    const kept = this.#tokens?.refresh_token;
    // A refresh answer may leave the refresh token out: the old one stays valid.
    this.#tokens =
      tokens.refresh_token === undefined && kept ? { ...tokens, refresh_token: kept } : tokens;
    this.#expiresAt =
      typeof tokens.expires_in === 'number' ? this.#now() + tokens.expires_in * 1000 : null;
    if (this.#options.mode === 'session') {
      this.#write();
      this.#version = fileVersion(this.#options.path);
    }
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    if (this.#options.mode === 'session') {
      throw this.#loginRequired('the stored token was refused and could not be refreshed');
    }
    this.#authorizationUrl = authorizationUrl;
  }

  saveCodeVerifier(codeVerifier: string): void {
    if (this.#options.mode === 'login') this.#verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (this.#verifier === undefined) throw this.#loginRequired('no sign-in is under way');
    return this.#verifier;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    const session = this.#options.mode === 'session';
    if (scope === 'all' || scope === 'client') {
      if (session)
        throw this.#loginRequired('the authorization server no longer knows this client');
      this.#client = undefined;
    }
    if (scope === 'all' || scope === 'tokens') {
      // The file is left alone (another process may have refreshed it already, and
      // `agentk login` replaces it): these tokens are only never offered again.
      if (session && this.#tokens !== undefined) this.#refused = tokenKey(this.#tokens);
      else this.#tokens = undefined;
    }
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
  }

  /** login: write what the sign-in gave, whole (after the exchange succeeded). */
  commit(): void {
    if (this.#client === undefined || this.#tokens === undefined) {
      throw new Error('nothing to store: the sign-in did not finish');
    }
    this.#write();
  }

  #write(): void {
    if (this.#client === undefined || this.#tokens === undefined) return;
    const record: StoredOAuth = {
      serverId: this.#options.serverId,
      shown: this.#options.shown,
      client: this.#client as Record<string, unknown>,
      tokens: this.#tokens as Record<string, unknown>,
      expiresAt: this.#expiresAt,
      discovery: (this.#discovery as Record<string, unknown> | undefined) ?? null,
    };
    writeOAuthFile(this.#options.path, record);
  }

  /** session: read the file again if it changed (a refresh by another session). */
  #reload(): void {
    const version = fileVersion(this.#options.path);
    if (version !== null && version === this.#version) return;
    const stored = readOAuthFile(this.#options.path); // a refused file is read again next time
    this.#version = version;
    const client = stored === null ? null : storedClient(stored.client);
    const tokens = stored === null ? null : storedTokens(stored.tokens);
    if (stored === null || client === null || tokens === null) {
      this.#client = undefined;
      this.#tokens = undefined;
      return;
    }
    this.#client = client;
    this.#tokens = tokens;
    this.#expiresAt = stored.expiresAt;
    this.#discovery ??= (stored.discovery as OAuthDiscoveryState | null) ?? undefined;
  }

  #loginRequired(why: string): LoginRequiredError {
    return new LoginRequiredError(
      `not signed in to ${this.#options.shown} as ${this.#options.serverId} (${why}): run ${this.#options.loginCommand}`,
    );
  }
}

const text = (value: unknown): value is string => typeof value === 'string';
const optional = (value: unknown, is: (value: unknown) => boolean) =>
  value === undefined || is(value);

/** The stored client registration, if it has what a refresh needs (the SDK's fields). */
function storedClient(value: Readonly<Record<string, unknown>>): Client | null {
  const { client_id, client_secret, issuer, redirect_uris } = value;
  if (!text(client_id) || !optional(client_secret, text) || !optional(issuer, text)) return null;
  const uris = Array.isArray(redirect_uris) ? redirect_uris.filter(text) : [];
  return { ...value, client_id, redirect_uris: uris } as Client;
}

/** The stored tokens, if they are tokens (the SDK's fields, checked as its schema does). */
function storedTokens(value: Readonly<Record<string, unknown>>): OAuthTokens | null {
  const { access_token, token_type, refresh_token, expires_in, scope, issuer } = value;
  const number = (item: unknown) => typeof item === 'number' && Number.isFinite(item);
  if (!text(access_token) || !text(token_type) || !optional(refresh_token, text)) return null;
  if (!optional(expires_in, number) || !optional(scope, text) || !optional(issuer, text))
    return null;
  return value as OAuthTokens;
}

/** Which tokens these are, without keeping a copy of a token. */
function tokenKey(tokens: OAuthTokens): string {
  return createHash('sha256')
    .update(`${tokens.access_token}\0${tokens.refresh_token ?? ''}`)
    .digest('hex');
}
