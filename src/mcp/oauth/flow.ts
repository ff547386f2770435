// The OAuth 2.1 flows AgentK runs through the official SDK's `auth()`: the sign-in of
// `agentk login` (discovery, dynamic client registration, authorization code with PKCE
// through a loopback redirect, the exchange) and the refresh a session does before it
// starts when its access token has expired. The SDK's client auth is loaded only here.
// Every request to the authorization server goes through authFetch: https only (or http
// to this machine), a bounded body, and none of the user's --header values.
// Input distrusted: the authorization server's answers and redirects.

import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isLoopbackHost } from '../../config/variables.js';
import { type CallbackListener, LoginFailure, listenForCallback } from './callback.js';
import { LoginRequiredError, StoredOAuthProvider } from './provider.js';

/** An answer of the authorization server larger than this is refused (metadata, tokens). */
const MAX_AUTH_BODY = 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** Statuses whose response has no body. */
const NO_BODY = new Set([101, 103, 204, 205, 304]);

/** A request to an authorization server AgentK would not send (not https). */
export class InsecureAuthError extends Error {
  override readonly name = 'InsecureAuthError';
}

function checkSecure(url: URL, insecure: boolean): void {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InsecureAuthError(`the authorization server gave a ${url.protocol} URL; refused`);
  }
  if (url.protocol === 'https:' || insecure || isLoopbackHost(url.hostname)) return;
  throw new InsecureAuthError(
    `the authorization server ${url.protocol}//${url.host} is not https; refused (--allow-insecure-http allows it)`,
  );
}

/**
 * The fetch the SDK's auth() uses: https only, bodies bounded, and redirects followed only
 * for a GET (discovery), each target checked before anything is sent to it; a POST
 * (registration, tokens) that is redirected gets the redirect as its answer (a failure).
 */
export function authFetch(insecure: boolean): FetchLike {
  return async (url, init) => {
    let target = new URL(url);
    checkSecure(target, insecure);
    let response = await fetch(target, { ...init, redirect: 'manual' });
    const get = (init?.method ?? 'GET').toUpperCase() === 'GET';
    for (let hops = 0; get && hops < MAX_REDIRECTS && REDIRECTS.has(response.status); hops += 1) {
      const location = response.headers.get('location');
      if (location === null) break;
      await response.body?.cancel().catch(() => {});
      target = new URL(location, target);
      checkSecure(target, insecure);
      response = await fetch(target, { ...init, redirect: 'manual' });
    }
    const body = NO_BODY.has(response.status) ? null : await boundedBody(response);
    return new Response(body, {
      status: response.status,
      statusText: '',
      headers: response.headers,
    });
  };
}

async function boundedBody(response: Response): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body === null) return new Uint8Array();
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > MAX_AUTH_BODY) {
      await response.body.cancel().catch(() => {});
      throw new InsecureAuthError(
        `an answer of the authorization server over ${MAX_AUTH_BODY} bytes; refused`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** An SDK or network failure, in AgentK's words (never the server's text, never a token). */
export function authFailureWords(error: unknown): string {
  if (error instanceof LoginRequiredError || error instanceof InsecureAuthError)
    return error.message;
  if (error instanceof LoginFailure) return error.message;
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{2,40}$/.test(code)) {
      return `cannot reach the authorization server (${code})`;
    }
    cause = cause.cause;
  }
  const known = knownSdkFailure(error);
  if (known !== null) return known;
  const errorCode = (error as { errorCode?: unknown }).errorCode;
  if (typeof errorCode === 'string' && /^[a-z_]{1,64}$/.test(errorCode)) {
    return `the authorization server answered ${errorCode}`;
  }
  const name = error instanceof Error ? error.name : 'error';
  return `the OAuth exchange failed (${name})`;
}

/**
 * The SDK's own failures a person can act on, in AgentK's words (its messages can carry
 * a server's URL or text, so none is repeated).
 */
function knownSdkFailure(error: unknown): string | null {
  const message = error instanceof Error ? error.message : '';
  const status = /^HTTP (\d{3}) trying to load/.exec(message)?.[1];
  if (status !== undefined) return `discovery failed: a metadata document answered HTTP ${status}`;
  if (message.includes('does not implement OAuth 2.0 Protected Resource Metadata')) {
    return 'the server publishes no OAuth protected-resource metadata: it may not use OAuth';
  }
  if (message.startsWith('Protected resource ') && message.includes('does not match')) {
    return "the server's protected-resource metadata names another resource; refused";
  }
  if (message.includes('does not support dynamic client registration')) {
    return 'the authorization server does not offer dynamic client registration, which agentk login needs';
  }
  if (message.startsWith('Incompatible auth server')) {
    return 'the authorization server does not offer the authorization code with S256 PKCE';
  }
  return null;
}

/**
 * Refresh a session's expired access token before the session starts. Resolves once the
 * new tokens are stored; a refusal is a LoginRequiredError (run agentk login).
 */
export async function refreshSession(
  provider: StoredOAuthProvider,
  serverUrl: URL,
  fetchFn: FetchLike,
): Promise<void> {
  const { auth } = await import('@modelcontextprotocol/sdk/client/auth.js');
  // With a refresh token stored, auth() refreshes; without one it would start a sign-in,
  // which a session refuses (redirectToAuthorization throws LoginRequiredError).
  await auth(provider, { serverUrl, fetchFn });
}

export interface SignInOptions {
  readonly serverId: string;
  readonly url: URL;
  readonly shown: string;
  /** The token file. */
  readonly path: string;
  readonly scope: string | undefined;
  readonly insecure: boolean;
  readonly timeoutMs: number;
  readonly loginCommand: string;
  /** Told the authorization URL (the person opens it). */
  readonly showUrl: (url: URL) => void;
}

/** `agentk login`: one sign-in, stored only once it succeeded. */
export async function signIn(
  options: SignInOptions,
): Promise<{ readonly expiresAt: number | null; readonly refreshable: boolean }> {
  const listener = await listenForCallback();
  try {
    return await signInThrough(listener, options);
  } finally {
    await listener.close();
  }
}

/** An initialize request, as a client's first: what a server requiring OAuth answers 401. */
const PROBE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'agentk-login', version: '1' },
  },
});

/**
 * What the MCP server asks for when it is sent no token: the `resource_metadata` and
 * `scope` of its 401's `WWW-Authenticate`, which the MCP authorization spec has the client
 * use before well-known discovery (a protected-resource metadata document at a custom
 * path, the scopes a resource needs). Anything else (not 401, unreachable) is no hint:
 * discovery then goes on as without. The answer's body is never read.
 */
async function challenge(url: URL): Promise<{ resourceMetadataUrl?: URL; scope?: string }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: PROBE,
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    return {};
  }
  await response.body?.cancel().catch(() => {});
  const session = response.headers.get('mcp-session-id');
  if (response.ok && session !== null) {
    // The server needed no token for initialize and opened a session: end it.
    await fetch(url, {
      method: 'DELETE',
      redirect: 'manual',
      headers: { 'mcp-session-id': session },
      signal: AbortSignal.timeout(5_000),
    })
      .then((ended) => ended.body?.cancel())
      .catch(() => {});
  }
  if (response.status !== 401) return {};
  const { extractWWWAuthenticateParams } = await import('@modelcontextprotocol/sdk/client/auth.js');
  const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(response);
  return {
    ...(resourceMetadataUrl !== undefined ? { resourceMetadataUrl } : {}),
    ...(scope !== undefined && scope.length <= 1024 && SCOPE_HINT.test(scope) ? { scope } : {}),
  };
}

/** A scope list as RFC 6749 writes it (printable, no quote or backslash), bounded. */
const SCOPE_HINT = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

async function signInThrough(listener: CallbackListener, options: SignInOptions) {
  // The person's --scope wins over the server's hint.
  const hint = await challenge(options.url);
  const scope = options.scope ?? hint.scope;
  const provider = new StoredOAuthProvider({
    mode: 'login',
    path: options.path,
    serverId: options.serverId,
    shown: options.shown,
    loginCommand: options.loginCommand,
    redirectUrl: listener.redirectUrl,
    ...(scope !== undefined ? { scope } : {}),
  });
  const { auth } = await import('@modelcontextprotocol/sdk/client/auth.js');
  const fetchFn = authFetch(options.insecure);
  const base = {
    serverUrl: options.url,
    fetchFn,
    ...(scope !== undefined ? { scope } : {}),
    ...(hint.resourceMetadataUrl !== undefined
      ? { resourceMetadataUrl: hint.resourceMetadataUrl }
      : {}),
  };
  let started: string;
  try {
    started = await auth(provider, base);
  } catch (error) {
    throw new LoginFailure(
      `cannot start the sign-in at ${options.shown}: ${authFailureWords(error)}`,
    );
  }
  const authorizationUrl = provider.authorizationUrl;
  const state = provider.expectedState;
  if (started === 'REDIRECT' && authorizationUrl !== undefined && state !== undefined) {
    // What the person (or the desktop's opener) is sent to: https, or http to this machine.
    try {
      checkSecure(authorizationUrl, options.insecure);
    } catch (error) {
      throw new LoginFailure(authFailureWords(error));
    }
    options.showUrl(authorizationUrl);
    const arrived = await listener.wait(state, options.timeoutMs);
    try {
      await auth(provider, { ...base, authorizationCode: arrived.code });
    } catch (error) {
      arrived.respond(false, 'AgentK could not finish the sign-in; see the terminal.');
      throw new LoginFailure(
        `the code exchange at ${options.shown} failed: ${authFailureWords(error)}`,
      );
    }
    arrived.respond(true, 'AgentK is signed in. You can close this tab.');
  } else if (started !== 'AUTHORIZED') {
    throw new LoginFailure(`the authorization server of ${options.shown} did not start a sign-in`);
  }
  provider.commit();
  return provider.obtained;
}
