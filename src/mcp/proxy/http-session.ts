// One MCP session of the HTTP endpoint (http-endpoint.ts). The official SDK's
// StreamableHTTPServerTransport speaks Streamable HTTP to the client; the session's proxy
// (StdioProxy or RemoteProxy, as `mcp-proxy-stdio` runs them, unchanged) sees a byte-stream
// client: each message the SDK hands over becomes one line of its input, and each line the
// proxy writes to its output (only once the trace events that allow it are written:
// client-stdio.ts's chunk) is sent back through the SDK. So everything is mediated by the
// same session and kernel code as on stdio. An answer goes on the POST stream of its
// request (the SDK routes it by id); a server request or notification goes on the stream
// of the client request it relates to (a progress notification: the request that carries
// its token; anything else: the newest request in flight), or on the client's GET stream
// when none is in flight.
// Input distrusted: the client's messages (already parsed and checked by the SDK).

import { PassThrough, Writable } from 'node:stream';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ProxyExit } from './types.js';

/** The proxy behind one HTTP session, as the endpoint sees it. */
export interface BridgedProxy {
  readonly done: Promise<ProxyExit>;
  /** End it now: answer what is in flight, seal the trace, stop the server. */
  stop(reason: string): void;
}

/** The byte-stream client a proxy is given for one HTTP session. */
export interface BridgeClient {
  readonly input: PassThrough;
  readonly output: Writable;
}

type Id = string | number;

/** Messages the proxy sends that no stream could take (their reason, for the log). */
export type Undeliverable = (why: string) => void;

export class HttpSession {
  readonly id: string;
  readonly transport: StreamableHTTPServerTransport;
  readonly client: BridgeClient;
  /** HTTP requests of this session being answered now (open SSE streams included). */
  openRequests = 0;
  /** When the client last sent anything, or was last sent anything. */
  lastActive = Date.now();
  /** The proxy, once started. */
  proxy: BridgedProxy | null = null;
  /** Being ended (DELETE, idle): asked once. */
  ending = false;
  /** Resolved when the proxy has ended (its trace sealed, or not). */
  exit: ProxyExit | null = null;
  /** Client requests in flight, oldest first: what the server's own messages relate to. */
  readonly #inFlight = new Map<string, Id>();
  /** Progress token (keyed) to the client request that carries it. */
  readonly #progress = new Map<string, Id>();
  #partial = '';
  readonly #undeliverable: Undeliverable;

  constructor(id: string, transport: StreamableHTTPServerTransport, undeliverable: Undeliverable) {
    this.id = id;
    this.transport = transport;
    this.#undeliverable = undeliverable;
    const output = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.#written(chunk.toString('utf8'));
        done();
      },
      final: (done) => {
        this.#written('\n');
        done();
      },
    });
    this.client = { input: new PassThrough(), output };
    transport.onmessage = (message) => this.#fromClient(message);
  }

  /** Whether the proxy has ended. */
  get ended(): boolean {
    return this.exit !== null;
  }

  /** Client requests are in flight (an idle session is not ended under them). */
  get busy(): boolean {
    return this.#inFlight.size > 0;
  }

  /** A message from the client: one line of the proxy's input. */
  #fromClient(message: JSONRPCMessage): void {
    this.lastActive = Date.now();
    if (this.ended || this.client.input.writableEnded) return;
    const request = message as { id?: unknown; method?: unknown; params?: unknown };
    if (request.method === 'notifications/cancelled') this.#cancelled(request.params);
    else if (typeof request.method === 'string' && isId(request.id)) {
      this.#inFlight.set(key(request.id), request.id);
      const meta = (request.params as { _meta?: { progressToken?: unknown } } | undefined)?._meta;
      if (isId(meta?.progressToken)) this.#progress.set(key(meta.progressToken), request.id);
    }
    this.client.input.write(`${JSON.stringify(message)}\n`);
  }

  /** What the proxy wrote to its client: whole lines, each one message. */
  #written(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) if (line !== '') this.#toClient(line);
  }

  #toClient(line: string): void {
    this.lastActive = Date.now();
    let message: JSONRPCMessage;
    try {
      message = JSON.parse(line) as JSONRPCMessage; // the proxy's own line
    } catch {
      this.#undeliverable('a line of the proxy was not JSON');
      return;
    }
    const answer = message as { id?: unknown; method?: unknown; params?: unknown };
    let related: Id | undefined;
    if (answer.method === undefined) {
      if (!isId(answer.id)) {
        // An answer to no request (a refusal of an unreadable message): no stream has it.
        this.#undeliverable('an answer without a request id has no stream to go on');
        return;
      }
      this.#answered(answer.id);
    } else related = this.#relatedTo(answer.method, answer.params);
    this.transport
      .send(message, related === undefined ? undefined : { relatedRequestId: related })
      .catch((error: unknown) =>
        this.#undeliverable(`a message could not be sent (${(error as Error).name})`),
      );
  }

  /**
   * The client gave up on a request: the session will never answer it (session.ts), so
   * its POST stream, which the SDK holds open until the answer, is closed here.
   */
  #cancelled(params: unknown): void {
    const id = (params as { requestId?: unknown } | undefined)?.requestId;
    if (!isId(id) || !this.#inFlight.has(key(id))) return;
    this.#answered(id);
    this.transport.closeSSEStream(id);
  }

  #answered(id: Id): void {
    this.#inFlight.delete(key(id));
    for (const [token, request] of this.#progress) {
      if (request === id) this.#progress.delete(token);
    }
  }

  /** The client request a server request or notification goes with (see the top). */
  #relatedTo(method: unknown, params: unknown): Id | undefined {
    if (method === 'notifications/progress') {
      const token = (params as { progressToken?: unknown } | undefined)?.progressToken;
      const request = isId(token) ? this.#progress.get(key(token)) : undefined;
      if (request !== undefined) return request;
    }
    let newest: Id | undefined;
    for (const id of this.#inFlight.values()) newest = id;
    return newest;
  }
}

function isId(value: unknown): value is Id {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** A map key that keeps 1 and "1" apart. */
function key(id: Id): string {
  return `${typeof id}:${id}`;
}
