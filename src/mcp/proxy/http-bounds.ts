// What AgentK lets in from a remote MCP server over HTTP before the SDK's Streamable HTTP
// transport reads it, and how a failure of that server is told. The SDK buffers a JSON
// body whole (response.json()), an error body whole (response.text()), and an event of an
// SSE stream whole, with no limit: the fetch given to it here counts the bytes first. A
// JSON body over the session's message limit, or one SSE event over it, fails the requests
// it answers and ends that body; an error body is never read at all (its words are the
// server's, and could echo what was sent). A body also waits while the client is not
// reading what it already got (backpressure).
// Input distrusted: the remote server's bytes, status and headers.

import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JsonRpcId, RPC } from '../jsonrpc.js';

/** Room for an SSE event's framing (`data: ` prefixes, its id and name) over the message. */
const EVENT_FRAMING = 4096;
const LF = 0x0a;
const CR = 0x0d;

export interface BodyBounds {
  /** The session's message size limit, in bytes. */
  readonly limit: number;
  /** A body (or one event of it) over the limit: the requests it answers fail. */
  oversize(ids: readonly JsonRpcId[], bytes: number): void;
  /** Resolves once the client reads again; null while it does. */
  gate(): Promise<void> | null;
}

/** A body AgentK stopped reading because it is over the limit (the requests are told). */
export class OversizeError extends Error {
  override readonly name = 'OversizeError';
}

/** The global fetch, with every response body it returns bounded (see the top). */
export function boundedFetch(bounds: BodyBounds): FetchLike {
  return async (url, init) => {
    const link = requestSignal(init?.signal);
    let response: Response;
    try {
      response = await fetch(url, link.signal ? { ...init, signal: link.signal } : init);
    } catch (error) {
      link.done();
      throw error;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      link.done();
      return new Response(null, {
        status: response.status,
        statusText: '',
        headers: response.headers,
      });
    }
    if (response.body === null || response.status === 204) {
      link.done();
      return response;
    }
    const events = mediaType(response.headers.get('content-type')) === 'text/event-stream';
    const ids = requestIds(init?.body);
    const body = response.body.pipeThrough(byteLimit(bounds, ids, events, link.done));
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/**
 * A signal of the request's own, aborted when the SDK's is. The SDK gives every request
 * its transport's one long-lived signal, and fetch leaves a listener on it per request
 * until that request is garbage-collected: a busy session passed 1,500 of them and Node
 * printed MaxListenersExceededWarning on stderr, line after line. The link to the SDK's
 * signal is removed once the request is done (its body read, or it failed).
 */
function requestSignal(outer: AbortSignal | null | undefined): {
  readonly signal: AbortSignal | undefined;
  readonly done: () => void;
} {
  if (!outer) return { signal: undefined, done: () => {} };
  const own = new AbortController();
  if (outer.aborted) {
    own.abort(outer.reason);
    return { signal: own.signal, done: () => {} };
  }
  const abort = () => own.abort(outer.reason);
  outer.addEventListener('abort', abort, { once: true });
  return { signal: own.signal, done: () => outer.removeEventListener('abort', abort) };
}

/** How long requests wait for the server's GET stream to be answered after initialized. */
const EVENT_STREAM_WAIT_MS = 2000;

/**
 * The SDK opens the server's GET stream (where a server sends what relates to no request)
 * only once `notifications/initialized` is answered, and does not wait for it: a request
 * sent right after can reach the server first, and a server request the server then sends
 * on that stream (a sampling request made outside its tool call) is dropped by a server
 * that has no stream to put it on. So POSTs sent after initialized (or while it is being
 * sent) wait until the GET stream is answered (any status), EVENT_STREAM_WAIT_MS at most.
 */
export function afterEventStream(inner: FetchLike): FetchLike {
  let opening: Promise<void> | null = null;
  let opened = () => {};
  return async (url, init) => {
    const method = init?.method ?? 'GET';
    if (method === 'GET' && opening !== null) {
      try {
        return await inner(url, init);
      } finally {
        opened();
      }
    }
    if (method !== 'POST') return inner(url, init);
    if (!isInitialized(init?.body)) {
      if (opening !== null) await opening;
      return inner(url, init);
    }
    // From the moment initialized is sent: a request sent meanwhile goes out after it too.
    opening = new Promise((resolve) => {
      const timer = setTimeout(() => opened(), EVENT_STREAM_WAIT_MS);
      opened = () => {
        clearTimeout(timer);
        opening = null;
        resolve();
      };
    });
    const response = await inner(url, init).catch((error: unknown) => {
      opened();
      throw error;
    });
    if (response.status !== 202) opened(); // the SDK opens no stream then
    return response;
  };
}

function isInitialized(body: unknown): boolean {
  return typeof body === 'string' && body.includes('"notifications/initialized"');
}

/**
 * Counts a body's bytes: all of them (JSON), or those since the last blank line (one SSE
 * event). Over the limit, the requests are told once and the body ends with an error.
 */
function byteLimit(
  bounds: BodyBounds,
  ids: readonly JsonRpcId[],
  events: boolean,
  /** Told when the body ended (read to its end, or cut for its size). */
  ended: () => void,
): TransformStream<Uint8Array, Uint8Array> {
  const limit = events ? bounds.limit + EVENT_FRAMING : bounds.limit;
  let count = 0;
  let lineEmpty = true;
  return new TransformStream({
    transform(chunk, controller) {
      if (events) {
        for (const byte of chunk) {
          if (byte === LF) {
            if (lineEmpty) count = 0; // a blank line ends the event
            lineEmpty = true;
          } else if (byte !== CR) {
            lineEmpty = false;
            count += 1;
          }
          if (count > limit) break;
        }
      } else count += chunk.length;
      if (count > limit) {
        bounds.oversize(ids, count);
        ended();
        controller.error(new OversizeError(`a body over the ${bounds.limit}-byte limit`));
        return undefined;
      }
      controller.enqueue(chunk);
      return bounds.gate() ?? undefined;
    },
    flush: ended,
  });
}

/** The ids of the requests a POST carried (the body is the SDK's own JSON). */
function requestIds(body: unknown): JsonRpcId[] {
  if (typeof body !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(body);
    return (Array.isArray(parsed) ? parsed : [parsed]).flatMap((message) => {
      const { id, method } = (message ?? {}) as { id?: unknown; method?: unknown };
      return typeof method === 'string' && (typeof id === 'string' || typeof id === 'number')
        ? [id]
        : [];
    });
  } catch {
    return [];
  }
}

function mediaType(header: string | null): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** A remote failure in AgentK's words: for the client's answer and for stderr. */
export interface RemoteFailure {
  readonly code: number;
  readonly message: string;
  /** The remote session is gone (404 for a session id): the client must start anew. */
  readonly expired: boolean;
}

export interface FailureContext {
  /** The endpoint, as shown (no credentials, no query). */
  readonly shown: string;
  /** The names of the headers AgentK sends (never their values). */
  readonly headerNames: readonly string[];
  /** Whether the remote server had given a session id. */
  readonly hadSession: boolean;
  /** With OAuth: the command that signs in again. */
  readonly login?: string;
}

/**
 * What a failed request to the remote server means, in AgentK's own words: never the
 * server's (its status text and body could echo what was sent, credentials included).
 */
export function describeFailure(error: unknown, context: FailureContext): RemoteFailure {
  const status = httpStatus(error);
  const fail = (message: string, code: number = RPC.downstreamError, expired = false) => ({
    code,
    message,
    expired,
  });
  const signIn = loginFailure(error);
  if (signIn !== null) return fail(signIn, RPC.downstreamError, true);
  if ((status === 401 || status === 403) && context.login !== undefined) {
    return fail(
      `authentication failed: ${context.shown} answered HTTP ${status} to AgentK's OAuth token; run ${context.login}`,
    );
  }
  if (status === 401 || status === 403) {
    const sent =
      context.headerNames.length > 0
        ? `headers sent: ${context.headerNames.join(', ')}`
        : 'no --header was given';
    return fail(
      `authentication failed: ${context.shown} answered HTTP ${status} (${sent}; check their values)`,
    );
  }
  if (status === 404 && context.hadSession) {
    return fail(
      `the remote session expired: ${context.shown} answered HTTP 404 for its session id; restart the server in the client to begin a new session`,
      RPC.transportClosed,
      true,
    );
  }
  if (status === 404) return fail(`${context.shown} answered HTTP 404: no MCP endpoint there`);
  if (status !== null && status >= 500) return fail(`${context.shown} failed: HTTP ${status}`);
  if (status === -1) return fail(`${context.shown} answered with a content type MCP does not use`);
  if (status !== null) return fail(`${context.shown} answered HTTP ${status}`);
  const network = networkCode(error);
  if (network !== null) {
    return fail(`cannot reach ${context.shown} (${network})`, RPC.transportClosed);
  }
  if (error instanceof SyntaxError || (error instanceof Error && error.name === 'ZodError')) {
    return fail(`${context.shown} sent a malformed response (withheld by AgentK)`, RPC.badResponse);
  }
  return fail(`the request to ${context.shown} failed (${errorName(error)})`);
}

/**
 * The words of a failure that only signing in again can end (the OAuth provider's
 * LoginRequiredError, an authorization server refused as insecure): they are AgentK's own.
 */
function loginFailure(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const own = error.name === 'LoginRequiredError' || error.name === 'InsecureAuthError';
  return own ? error.message : null;
}

/** The HTTP status of the SDK's StreamableHTTPError (-1: an unexpected content type). */
function httpStatus(error: unknown): number | null {
  if (!(error instanceof Error) || !error.message.startsWith('Streamable HTTP error')) return null;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : null;
}

/** The system error code somewhere in a failed fetch's causes (ECONNREFUSED, ENOTFOUND). */
function networkCode(error: unknown): string | null {
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{2,40}$/.test(code)) return code;
    cause = cause.cause;
  }
  return error instanceof TypeError && error.message === 'fetch failed' ? 'network error' : null;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'error';
}

/**
 * With OAuth, the SDK's transport and its auth() share one fetch: requests of the MCP
 * transport (to the endpoint, or same-origin ones that take an event stream, or its
 * DELETE) go through `mcp`, bounded as above; the rest (discovery, registration, token
 * requests) through `other`, without the --header values, which are for the MCP server.
 */
export function routedFetch(
  endpoint: URL,
  mcp: FetchLike,
  other: FetchLike,
  headerNames: readonly string[],
): FetchLike {
  return (url, init) => {
    const target = new URL(url);
    const headers = new Headers(init?.headers);
    const sameOrigin = target.origin === endpoint.origin;
    const transport =
      target.pathname === endpoint.pathname ||
      (headers.get('accept') ?? '').includes('text/event-stream') ||
      init?.method === 'DELETE';
    if (sameOrigin && transport) return mcp(url, init);
    for (const name of headerNames) headers.delete(name);
    return other(url, { ...init, headers });
  };
}

/** Whether an error only says the transport was closed (the session is ending). */
export function isAbort(error: unknown): boolean {
  const name =
    typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : '';
  return name === 'AbortError' || name === 'TimeoutError';
}
