// The remote transport of the proxy: the client speaks to us on stdio as it does to
// StdioProxy (client-stdio.ts), and the server is a remote MCP server we speak Streamable
// HTTP to, through the official SDK's client transport (loaded only here, when a URL is
// given). Each line the session sends the server becomes a POST; what comes back (a JSON
// answer, the events of a POST's SSE stream, the server's own GET stream of requests and
// notifications) reaches the session as a line, as the child's stdout lines do, inside a
// chunk: nothing it allows leaves before its trace events are written. The SDK keeps
// Mcp-Session-Id and MCP-Protocol-Version, and resumes a dropped stream with Last-Event-ID.
// Bodies are bounded here (http-bounds.ts), failures told in AgentK's words.
// Input distrusted: everything the remote server sends, and how it behaves.

import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { JsonRpcId } from '../jsonrpc.js';
import { type ClientStdioOptions, StdioClientProxy } from './client-stdio.js';
import {
  afterEventStream,
  boundedFetch,
  describeFailure,
  isAbort,
  OversizeError,
  routedFetch,
} from './http-bounds.js';
import { faultName, type ServerChannel } from './types.js';

/** POSTs in flight before the client is read no more (and the proxy's refusals dropped). */
const MAX_POSTS = 64;
/** How long the remote server may take to end its session (DELETE) when the client leaves. */
const SHUTDOWN_GRACE_MS = 800;
/** A dropped SSE stream is resumed (Last-Event-ID) this many times, from 0.5 s to 5 s apart. */
const RECONNECTION = {
  initialReconnectionDelay: 500,
  maxReconnectionDelay: 5000,
  reconnectionDelayGrowFactor: 2,
  maxRetries: 5,
};

export interface RemoteProxyOptions extends ClientStdioOptions {
  readonly url: URL;
  /** The endpoint as shown to a person: no credentials, no query. */
  readonly shown: string;
  /** Sent with every request. Their values are credentials: never shown, never traced. */
  readonly headers: Readonly<Record<string, string>>;
  /** Told one line for each failure of the remote side a person should know of. */
  readonly onRemoteError?: (line: string) => void;
  /** OAuth (`--oauth`): the SDK sends the provider's token and refreshes it. */
  readonly oauth?: RemoteOAuth;
}

export interface RemoteOAuth {
  readonly provider: OAuthClientProvider;
  /** For the authorization server's requests (discovery, refresh): not the MCP endpoint's. */
  readonly fetch: FetchLike;
  /** The command that signs in again (`agentk login ...`), for the failures' words. */
  readonly login: string;
}

export class RemoteProxy extends StdioClientProxy<RemoteProxyOptions> {
  #transport: StreamableHTTPClientTransport | null = null;
  #closed = false;
  #posts = 0;
  /** While the client does not read: what the remote server's bodies wait on. */
  #paused: { readonly promise: Promise<void>; readonly resume: () => void } | null = null;
  /** The downstream id of the initialize request, whose answer names the protocol version. */
  #initializeId: JsonRpcId | null = null;
  /** Errors a failed send told of already (the SDK reports them to onerror too). */
  readonly #told = new WeakSet<object>();

  /** Load the SDK's transport and begin relaying; nothing is sent before the client speaks. */
  async start(): Promise<void> {
    const session = this.session;
    let sdk: typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    try {
      sdk = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    } catch (error) {
      session.serverFailed(`cannot load the MCP SDK's HTTP client (${faultName(error)})`);
      return;
    }
    // The MCP endpoint's requests: bounded, and sent only once the GET stream has had its
    // chance to open (afterEventStream); an authorization server's go through OAuth's fetch.
    const bounded = afterEventStream(
      boundedFetch({
        limit: session.maxMessageBytes,
        oversize: (ids, bytes) => this.#oversize(ids, bytes),
        gate: () => this.#paused?.promise ?? null,
      }),
    );
    const oauth = this.options.oauth;
    const headerNames = Object.keys(this.options.headers);
    const transport = new sdk.StreamableHTTPClientTransport(this.options.url, {
      requestInit: { headers: { ...this.options.headers } },
      fetch: oauth ? routedFetch(this.options.url, bounded, oauth.fetch, headerNames) : bounded,
      reconnectionOptions: RECONNECTION,
      ...(oauth ? { authProvider: oauth.provider } : {}),
    });
    transport.onmessage = (message) => this.batched(() => this.#fromServer(message));
    transport.onerror = (error) => setImmediate(() => this.#streamError(error));
    await transport.start();
    this.#transport = transport;
    session.attach(this.clientChannel(), this.#serverChannel(), (work) => this.batched(work));
    this.relayClient();
    session.serverStarted();
  }

  #fromServer(message: JSONRPCMessage): void {
    const answer = message as { id?: unknown; result?: { protocolVersion?: unknown } };
    const version = answer.result?.protocolVersion;
    if (answer.id === this.#initializeId && typeof version === 'string') {
      this.#transport?.setProtocolVersion(version); // sent on every later request
    }
    // The SDK hands over the message parsed: the session gets it as one line again.
    const text = JSON.stringify(message);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.session.maxMessageBytes) {
      const id = typeof answer.id === 'string' || typeof answer.id === 'number' ? answer.id : null;
      this.session.serverOversize(id, bytes);
    } else this.session.fromServer(text);
  }

  #oversize(ids: readonly JsonRpcId[], bytes: number): void {
    const limit = this.session.maxMessageBytes;
    this.#say(`the remote server sent a message over the ${limit}-byte limit; withheld`);
    this.batched(() => {
      for (const id of ids) this.session.serverOversize(id, bytes);
      if (ids.length === 0) this.stats.malformedFromServer += 1;
    });
  }

  protected writeServer(line: string, refusal: boolean): void {
    const transport = this.#transport;
    if (!transport || this.#closed) return;
    let message: JSONRPCMessage;
    try {
      message = JSON.parse(line) as JSONRPCMessage; // the session's own line
    } catch {
      this.stats.faults += 1;
      return;
    }
    const { id, method } = message as { id?: JsonRpcId; method?: string };
    const request = typeof method === 'string' && id !== undefined ? id : null;
    if (method === 'initialize') this.#initializeId = request;
    this.#posts += 1;
    if (this.#posts >= MAX_POSTS && !refusal) this.options.input.pause();
    transport
      .send(message)
      .catch((error: unknown) => this.#undelivered(request, error))
      .finally(() => {
        this.#posts -= 1;
        if (this.#posts === MAX_POSTS - 1) this.serverDrained();
      });
  }

  /** Each line its own POST (a request is one JSON-RPC message). */
  protected releaseServer(lines: readonly string[], refusalsOnly: boolean): void {
    for (const line of lines) this.writeServer(line, refusalsOnly);
  }

  /** A POST failed: its request is answered in AgentK's words, and the person told. */
  #undelivered(request: JsonRpcId | null, error: unknown): void {
    if (typeof error === 'object' && error !== null) this.#told.add(error);
    if (this.#closed || isAbort(error) || error instanceof OversizeError) return;
    const failure = describeFailure(error, this.#context());
    this.#say(failure.message);
    if (failure.expired) {
      this.session.serverGone(failure.message);
      return;
    }
    if (request !== null) {
      this.batched(() => this.session.requestUndelivered(request, failure.code, failure.message));
    }
  }

  /** What the SDK reports off any request: its streams breaking, resuming, or failing. */
  #streamError(error: Error): void {
    if (this.#told.has(error) || this.#closed || isAbort(error)) return;
    if (error instanceof OversizeError) return;
    const text = error.message;
    if (error instanceof SyntaxError || error.name === 'ZodError') {
      this.stats.malformedFromServer += 1;
      this.#say('the remote server sent a malformed message on an event stream; dropped');
    } else if (text.includes('OversizeError')) {
      return; // a body AgentK stopped reading: told already
    } else if (text.startsWith('SSE stream disconnected')) {
      this.#say('an event stream of the remote server broke off');
    } else if (text.startsWith('Maximum reconnection attempts')) {
      this.#say(`the event stream could not be resumed (${RECONNECTION.maxRetries} attempts)`);
    } else if (!text.startsWith('Failed to reconnect')) {
      const failure = describeFailure(error, this.#context());
      this.#say(`event stream: ${failure.message}`);
      if (failure.expired) this.session.serverGone(failure.message);
    }
  }

  #context() {
    return {
      shown: this.options.shown,
      headerNames: Object.keys(this.options.headers),
      hadSession: this.#transport?.sessionId !== undefined,
      ...(this.options.oauth ? { login: this.options.oauth.login } : {}),
    };
  }

  #say(line: string): void {
    if (!this.#closed) this.options.onRemoteError?.(line);
  }

  protected pauseServer(): void {
    if (this.#paused) return;
    let resume = () => {};
    const promise = new Promise<void>((resolve) => {
      resume = resolve;
    });
    this.#paused = { promise, resume };
  }

  protected resumeServer(): void {
    this.#paused?.resume();
    this.#paused = null;
  }

  protected serverBacklog(): number {
    return this.#posts >= MAX_POSTS ? this.#posts : 0;
  }

  /** Ends the remote session (DELETE, briefly waited for), then the transport. */
  async #end(): Promise<void> {
    const transport = this.#transport;
    if (transport && !this.#closed) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
      });
      await Promise.race([transport.terminateSession().catch(() => {}), grace]);
      clearTimeout(timer);
    }
    this.#close();
    this.session.serverGone('the remote session was closed');
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.resumeServer();
    void this.#transport?.close().catch(() => {});
  }

  #serverChannel(): ServerChannel {
    const closed = () => this.#closed;
    return {
      get writable() {
        return !closed();
      },
      send: (line, refusal) => {
        if (this.#closed) return 'closed';
        if (refusal && this.#posts >= MAX_POSTS) return 'dropped';
        this.toServer(line, refusal);
        return 'sent';
      },
      shutdown: () => this.whenReleased(() => void this.#end()),
      terminate: () => this.#close(),
    };
  }
}
