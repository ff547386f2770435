// AgentK as a Streamable HTTP endpoint: a node:http server that HTTP-capable MCP clients
// connect to. Every request is checked here first (path, Host, Origin, bearer token,
// method, content type, body size, the session it names); each MCP session then gets the
// official SDK's StreamableHTTPServerTransport and its own proxy (http-session.ts), one
// kernel session and one trace each, made by the `open` factory it is given. Sessions end
// at DELETE, after an idle time, when their server stops, or at close(); each seals its
// trace. What is bounded: sessions, streams per session, body and header sizes, idle time.
// Input distrusted: every byte of every request.

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { digestEquals, randomHex, sha256Hex } from '../../crypto/index.js';
import { type BridgeClient, type BridgedProxy, HttpSession } from './http-session.js';
import type { ProxyExit } from './types.js';

type Sdk = typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js');

export interface EndpointOptions {
  /** The address and port to listen on (port 0: the kernel picks one). */
  readonly host: string;
  readonly port: number;
  /** The one path MCP is served on ('/mcp'). */
  readonly path: string;
  /** Host header values taken besides this machine's names at the bound port. */
  readonly extraHosts: readonly string[];
  /** Origins a browser may send besides the endpoint's own. */
  readonly allowedOrigins: readonly string[];
  /** The bearer token every request must carry, or null for none. Never logged. */
  readonly token: string | null;
  readonly maxSessions: number;
  /** HTTP requests of one session answered at once (its SSE streams included). */
  readonly maxStreams: number;
  readonly maxBodyBytes: number;
  readonly maxHeaderBytes: number;
  /** A session with nothing in flight and no traffic this long is ended. */
  readonly idleMs: number;
  /** Start the proxy of a new session (a new server, kernel and trace). */
  open(client: BridgeClient, sessionId: string): Promise<BridgedProxy>;
  /** One line for the person running the endpoint (refusals, session ends). */
  log(line: string): void;
}

/** How long DELETE or an idle expiry waits for a session's proxy to end by itself. */
const END_GRACE_MS = 2000;
const METHODS = 'GET, POST, DELETE';
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export class HttpEndpoint {
  readonly #options: EndpointOptions;
  readonly #sessions = new Map<string, HttpSession>();
  #server: Server | null = null;
  #sdk: Sdk | null = null;
  #hosts = new Set<string>();
  #origins = new Set<string>();
  #sweep: NodeJS.Timeout | null = null;
  #closing = false;
  /** Sessions being opened (counted against the limit before they are in the map). */
  #opening = 0;

  constructor(options: EndpointOptions) {
    this.#options = options;
  }

  /** Load the SDK's transport, listen, and return the endpoint's URL (the bound port). */
  async listen(): Promise<URL> {
    const options = this.#options;
    this.#sdk = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
    const server = createServer({ maxHeaderSize: options.maxHeaderBytes }, (request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        this.#refuse(response, 500, `internal error (${(error as Error).name})`, request);
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 60_000;
    server.maxConnections = options.maxSessions * options.maxStreams + 16;
    server.on('clientError', (error, socket) => this.#clientError(error, socket));
    this.#server = server;
    server.listen(options.port, options.host);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const names = new Set([...LOOPBACK_NAMES, host, ...options.extraHosts]);
    this.#hosts = new Set([...names].map((name) => `${name}:${port}`.toLowerCase()));
    this.#origins = new Set([
      ...[...this.#hosts].map((name) => `http://${name}`),
      ...options.allowedOrigins.map((origin) => origin.toLowerCase()),
    ]);
    const interval = Math.max(250, Math.min(options.idleMs / 4, 30_000));
    this.#sweep = setInterval(() => this.#expireIdle(), interval);
    this.#sweep.unref();
    return new URL(`http://${host}:${port}${options.path}`);
  }

  /** Sessions open now. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Stop listening, end every session (answered, sealed), and close every connection. */
  async close(reason: string): Promise<void> {
    this.#closing = true;
    if (this.#sweep) clearInterval(this.#sweep);
    const server = this.#server;
    server?.close();
    const ending = [...this.#sessions.values()].map((session) => {
      session.proxy?.stop(reason);
      return session.proxy?.done;
    });
    await Promise.all(ending);
    server?.closeAllConnections();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const refusal = this.#gate(request);
    if (refusal !== null) {
      this.#refuse(response, refusal.status, refusal.why, request, refusal.headers);
      return;
    }
    const method = request.method as string;
    const named = header(request, 'mcp-session-id');
    const session = named === undefined ? undefined : this.#sessions.get(named);
    if (named !== undefined && session === undefined) {
      this.#refuse(response, 404, 'unknown or ended Mcp-Session-Id', request, {}, -32001);
      return;
    }
    if (session === undefined && method !== 'POST') {
      this.#refuse(response, 400, 'Mcp-Session-Id header is required', request);
      return;
    }
    let body: unknown;
    if (method === 'POST') {
      const read = await this.#body(request, response);
      if (read === null) return;
      body = read.body;
    }
    if (session === undefined) {
      await this.#initialize(request, response, body);
      return;
    }
    if (method !== 'DELETE' && session.openRequests >= this.#options.maxStreams) {
      const headers = { 'Retry-After': '1' };
      this.#refuse(response, 429, 'too many requests open in this session', request, headers);
      return;
    }
    await this.#dispatch(session, request, response, body);
  }

  /** What every request must pass before anything else: path, Host, Origin, token, method. */
  #gate(request: IncomingMessage): Refusal | null {
    const path = (request.url ?? '').split('?')[0];
    if (path !== this.#options.path) return { status: 404, why: 'no MCP endpoint at this path' };
    const host = (header(request, 'host') ?? '').toLowerCase();
    if (!this.#hosts.has(host)) return { status: 403, why: 'Host not allowed' };
    const origin = header(request, 'origin');
    if (origin !== undefined && !this.#origins.has(origin.toLowerCase())) {
      return { status: 403, why: 'Origin not allowed (see --allow-origin)' };
    }
    const token = this.#options.token;
    if (token !== null) {
      const given = /^Bearer +(\S+) *$/i.exec(header(request, 'authorization') ?? '')?.[1];
      if (given === undefined || !digestEquals(sha256Hex(given), sha256Hex(token))) {
        const headers = { 'WWW-Authenticate': 'Bearer realm="agentk"' };
        const why = given === undefined ? 'no bearer token' : 'wrong bearer token';
        return { status: 401, why, headers };
      }
    }
    if (!['GET', 'POST', 'DELETE'].includes(request.method ?? '')) {
      return { status: 405, why: 'method not allowed', headers: { Allow: METHODS } };
    }
    if (request.method === 'POST') {
      const type = (header(request, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        return { status: 415, why: 'Content-Type must be application/json' };
      }
      const accept = header(request, 'accept') ?? '';
      if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
        return { status: 406, why: 'Accept must list application/json and text/event-stream' };
      }
    }
    return null;
  }

  /** A POST's body, read up to the limit and parsed (null: refused, answered already). */
  async #body(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<{ body: unknown } | null> {
    const limit = this.#options.maxBodyBytes;
    const tooLarge = () => {
      response.setHeader('Connection', 'close');
      this.#refuse(response, 413, `body over the ${limit}-byte limit`, request);
      request.resume(); // the rest is not kept
      return null;
    };
    if (Number(header(request, 'content-length') ?? 0) > limit) return tooLarge();
    const bytes = await readBounded(request, limit);
    if (bytes === null) return tooLarge();
    try {
      return { body: JSON.parse(bytes.toString('utf8')) as unknown };
    } catch {
      this.#refuse(response, 400, 'the body is not JSON', request, {}, -32700);
      return null;
    }
  }

  /** A POST without a session id: it must be initialize, which opens a new session. */
  async #initialize(request: IncomingMessage, response: ServerResponse, body: unknown) {
    const first = (Array.isArray(body) ? body[0] : body) as { method?: unknown } | undefined;
    if (first?.method !== 'initialize') {
      this.#refuse(response, 400, 'Mcp-Session-Id header is required', request);
      return;
    }
    if (this.#closing || this.#sessions.size + this.#opening >= this.#options.maxSessions) {
      const why = `all ${this.#options.maxSessions} sessions are in use (--max-sessions)`;
      this.#refuse(response, 503, why, request, { 'Retry-After': '5' });
      return;
    }
    this.#opening += 1;
    let session: HttpSession;
    try {
      session = await this.#openSession();
    } catch (error) {
      this.#refuse(response, 500, `the session could not start (${(error as Error).name})`);
      return;
    } finally {
      this.#opening -= 1;
    }
    if (session.ended) {
      const why = `the server could not start: ${session.exit?.reason ?? 'unknown'}`;
      this.#refuse(response, 502, why, request);
      return;
    }
    await this.#dispatch(session, request, response, body);
  }

  async #openSession(): Promise<HttpSession> {
    const sdk = this.#sdk as Sdk;
    const id = randomHex(16);
    const short = id.slice(0, 8);
    const transport = new sdk.StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessionclosed: () => this.#end(session, 'the client ended it (DELETE)'),
    });
    const session: HttpSession = new HttpSession(id, transport, (why) =>
      this.#options.log(`session ${short}: ${why}`),
    );
    transport.onerror = (error) => this.#options.log(`session ${short}: ${clean(error.message)}`);
    await transport.start();
    const proxy = await this.#options.open(session.client, id);
    session.proxy = proxy;
    this.#sessions.set(id, session);
    void proxy.done.then((exit) => this.#ended(session, exit));
    // A signal came while the server was starting: close() did not see this session.
    if (this.#closing) proxy.stop('the endpoint is stopping');
    return session;
  }

  /** Hand a checked request to the session's SDK transport. */
  async #dispatch(
    session: HttpSession,
    request: IncomingMessage,
    response: ServerResponse,
    body: unknown,
  ): Promise<void> {
    session.lastActive = Date.now();
    session.openRequests += 1;
    response.once('close', () => {
      session.openRequests -= 1;
      session.lastActive = Date.now();
    });
    const input = session.client.input;
    // The proxy is not reading its client (its server is slow): this POST waits for it.
    if (body !== undefined && input.writableNeedDrain && !session.ended) {
      await Promise.race([once(input, 'drain'), session.proxy?.done]);
    }
    await session.transport.handleRequest(request, response, body);
  }

  /** End a session gently (DELETE, idle): its proxy drains, stops the server and seals. */
  async #end(session: HttpSession, why: string): Promise<void> {
    const proxy = session.proxy;
    if (proxy === null || session.ended || session.ending) return;
    session.ending = true;
    this.#options.log(`session ${session.id.slice(0, 8)}: ending: ${why}`);
    session.client.input.end();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, END_GRACE_MS);
    });
    await Promise.race([proxy.done, grace]);
    clearTimeout(timer);
    if (!session.ended) proxy.stop(why);
    await proxy.done;
  }

  /** The proxy ended (any way): the session id is no longer known, its streams close. */
  #ended(session: HttpSession, exit: ProxyExit): void {
    session.exit = exit;
    this.#sessions.delete(session.id);
    void session.transport.close().catch(() => {});
  }

  #expireIdle(): void {
    const now = Date.now();
    for (const session of this.#sessions.values()) {
      if (session.busy || now - session.lastActive < this.#options.idleMs) continue;
      const seconds = Math.round(this.#options.idleMs / 1000);
      void this.#end(session, `idle for ${seconds} s`);
    }
  }

  /** Malformed HTTP or oversized headers, refused by node before any handler runs. */
  #clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 408
          : 400;
    this.#options.log(`refused a request: HTTP ${status} (${error.code ?? 'malformed HTTP'})`);
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\n\r\n`);
  }

  /** Refuse a request: the status, a JSON-RPC error body, and one line in the log. */
  #refuse(
    response: ServerResponse,
    status: number,
    why: string,
    request?: IncomingMessage,
    headers: Readonly<Record<string, string>> = {},
    code = -32000,
  ): void {
    const what = request ? `${request.method} ${(request.url ?? '').split('?')[0]}` : 'a request';
    this.#options.log(`refused ${clean(what)}: HTTP ${status}, ${why}`);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message: why }, id: null });
    response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    response.end(body);
  }
}

interface Refusal {
  readonly status: number;
  readonly why: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** A request's body, or null once it passes `limit` bytes (the rest is left unread). */
function readBounded(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const data = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      request.off('data', data);
      resolve(null);
    };
    request.on('data', data);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', () => resolve(null));
  });
}

/** One header's value (the first, if repeated). */
function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Text from a client (a path, the SDK's words about a header) made safe for one log line. */
function clean(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 160 ? `${printable.slice(0, 160)}...` : printable;
}
