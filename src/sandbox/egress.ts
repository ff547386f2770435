// The filtering proxy a sandboxed server's network goes through (docs/sandbox.md,
// "Network"). It runs in the AgentK process and listens on a Unix socket in a private
// directory, which the sandbox shows at relay.ts's path; the relay inside carries the
// server's TCP connections to it. It speaks HTTP CONNECT (a tunnel, for https) and plain
// HTTP forwarding (an absolute http:// URL). Each attempt is decided here in order: the
// allow-list (a host not on it is never even resolved: a lookup can itself carry data
// out), the lookup, the resolved addresses (anti DNS rebinding, network.ts), and then the
// caller's recorder, which records every attempt, allowed or refused, and may refuse
// more (AgentK's kernel and policy). Only then is the connection made, to the address
// that was checked. A refusal is a 403 that says why. Anything unexpected refuses.
// Input distrusted: every byte the server sends.

import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { connect, isIP, type LookupFunction, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import {
  addressProblem,
  allowedEntry,
  hostPort,
  type NetworkEntry,
  normalHost,
} from './network.js';

/** How long a name may take to resolve, and a connection to be made. */
const LOOKUP_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 30_000;
/** Connections from the sandbox at once (each holds descriptors in this process). */
const MAX_CONNECTIONS = 256;

/** One connection attempt, as the recorder is told of it. */
export interface EgressAttempt {
  /** `CONNECT`, or the forwarded request's method. */
  readonly method: string;
  readonly host: string;
  readonly port: number;
  /** `https://host:port` for a tunnel, `http://host:port` for a forwarded request. */
  readonly target: string;
  /** Why the sandbox refuses it before anyone else is asked, or null. */
  readonly refusal: { readonly rule: string; readonly reason: string } | null;
}

export interface EgressVerdict {
  readonly allowed: boolean;
  readonly rule: string;
  readonly reason: string;
}

/** Records an attempt and says whether it may go ahead; a throw refuses it. */
export type EgressRecorder = (attempt: EgressAttempt) => EgressVerdict;

export interface EgressOptions {
  readonly allow: readonly NetworkEntry[];
  readonly record: EgressRecorder;
  /** The addresses a name resolves to (default: the system resolver, all of them). */
  readonly resolve?: (host: string) => Promise<readonly string[]>;
}

type Admission =
  | { readonly ok: true; readonly addresses: readonly string[] }
  | { readonly ok: false; readonly status: 403 | 502; readonly text: string };

async function systemResolve(host: string): Promise<readonly string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), LOOKUP_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    return found.map((entry) => entry.address);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connection options that reach `host` only at the addresses that were checked: a lookup
 * that answers with them (no second resolution, which DNS rebinding could change), tried
 * in turn (happy eyeballs), so a name listed as both ::1 and 127.0.0.1 reaches whichever
 * listens.
 */
function pinned(host: string, addresses: readonly string[]) {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  const lookup: LookupFunction = (_name, options, callback) => {
    const first = entries[0] as LookupAddress;
    if (options.all) (callback as (error: null, all: LookupAddress[]) => void)(null, entries);
    else callback(null, first.address, first.family);
  };
  return { host, lookup, autoSelectFamily: entries.length > 1 } as const;
}

/** An HTTP/1.1 answer written on a raw socket (a CONNECT's), closing it. */
function rawAnswer(status: number, text: string): string {
  const phrase = status === 403 ? 'Forbidden' : status === 502 ? 'Bad Gateway' : 'Bad Request';
  const body = Buffer.from(text);
  return `HTTP/1.1 ${status} ${phrase}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${text}`;
}

/** Headers of one hop only, not forwarded either way. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_HEADERS.has(name)) out[name] = value;
  }
  return out;
}

/** `host:port` of a CONNECT request, or null. */
function authority(text: string | undefined): { host: string; port: number } | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+):(\d{1,5})$/.exec(text ?? '');
  if (match === null) return null;
  const port = Number(match[2]);
  return port >= 1 && port <= 65_535 ? { host: normalHost(match[1] as string), port } : null;
}

export class EgressProxy {
  readonly socketPath: string;
  readonly #dir: string;
  readonly #options: EgressOptions;
  readonly #server = createServer();
  readonly #sockets = new Set<Duplex>();

  private constructor(options: EgressOptions) {
    this.#options = options;
    // A directory only this user may enter: no other local user reaches the socket.
    this.#dir = mkdtempSync(join(tmpdir(), 'agentk-net-'));
    this.socketPath = join(this.#dir, 'proxy.sock');
  }

  /** A proxy listening on its socket, ready to be bound into a sandbox. */
  static async open(options: EgressOptions): Promise<EgressProxy> {
    const proxy = new EgressProxy(options);
    await proxy.#listen();
    return proxy;
  }

  async #listen(): Promise<void> {
    const server = this.#server;
    server.maxConnections = MAX_CONNECTIONS;
    server.on('connection', (socket: Socket) => this.#track(socket));
    server.on('clientError', (_error, socket) => socket.destroy());
    server.on('request', (req, res) => {
      this.#forward(req, res).catch(() => res.destroy());
    });
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#tunnel(req, socket, head).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        // The session keeps the process alive; a proxy left open by a failed start must not.
        server.unref();
        resolve();
      });
    });
  }

  #track(socket: Duplex): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** Stop listening, drop every connection, remove the socket. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** Decide one attempt: the allow-list, the lookup, the addresses, then the recorder. */
  async #admit(method: string, host: string, port: number, target: string): Promise<Admission> {
    const place = hostPort(host, port);
    const attempt = { method, host, port, target };
    const entry = allowedEntry(this.#options.allow, host, port);
    if (entry === undefined) {
      const reason = `${place} is not on this server's sandbox network allow-list`;
      return this.#refuse(attempt, 'kernel.sandbox-network-not-allowed', reason, 403);
    }
    let addresses: readonly string[];
    try {
      addresses = isIP(host) !== 0 ? [host] : await (this.#options.resolve ?? systemResolve)(host);
      if (addresses.length === 0) throw new Error('no address');
    } catch (error) {
      const reason = `${host} did not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
      return this.#refuse(attempt, 'kernel.sandbox-network-unresolved', reason, 502);
    }
    const problem = addresses.map((address) => addressProblem(entry, address)).find((p) => p);
    if (problem) return this.#refuse(attempt, 'kernel.sandbox-network-address', problem, 403);
    let verdict: EgressVerdict;
    try {
      verdict = this.#options.record({ ...attempt, refusal: null });
    } catch {
      // Nothing goes out that is not on record (the trace closed, or failed).
      const reason = 'the attempt could not be recorded in the trace';
      verdict = { allowed: false, rule: 'kernel.sandbox-network-unrecorded', reason };
    }
    if (!verdict.allowed) {
      return { ok: false, status: 403, text: refusalText(method, place, verdict) };
    }
    return { ok: true, addresses };
  }

  #refuse(
    attempt: Omit<EgressAttempt, 'refusal'>,
    rule: string,
    reason: string,
    status: 403 | 502,
  ): Admission {
    try {
      this.#options.record({ ...attempt, refusal: { rule, reason } });
    } catch {}
    const text = refusalText(attempt.method, hostPort(attempt.host, attempt.port), {
      allowed: false,
      rule,
      reason,
    });
    return { ok: false, status, text };
  }

  /** A CONNECT: the tunnel, once admitted, carries bytes both ways untouched. */
  async #tunnel(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const place = authority(req.url);
    if (place === null) {
      socket.end(rawAnswer(400, 'agentk: CONNECT takes host:port\n'));
      return;
    }
    const target = `https://${hostPort(place.host, place.port)}`;
    const admission = await this.#admit('CONNECT', place.host, place.port, target);
    if (!admission.ok) {
      socket.end(rawAnswer(admission.status, admission.text));
      return;
    }
    const upstream = connect({ ...pinned(place.host, admission.addresses), port: place.port });
    this.#track(upstream);
    let open = false;
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('timed out')));
    upstream.once('connect', () => {
      open = true;
      upstream.setTimeout(0);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (open) socket.destroy();
      else socket.end(rawAnswer(502, `agentk: ${target} failed: ${error.code ?? error.message}\n`));
    });
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  }

  /** A plain-HTTP request in absolute form, forwarded as origin form to the checked address. */
  async #forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL | null = null;
    try {
      url = new URL(req.url ?? '');
    } catch {}
    const method = req.method ?? 'GET';
    if (url === null || url.protocol !== 'http:' || url.hostname === '') {
      answer(
        res,
        400,
        'agentk: a proxy request names an http:// URL (https goes through CONNECT)\n',
      );
      return;
    }
    const host = normalHost(url.hostname);
    const port = url.port === '' ? 80 : Number(url.port);
    const admission = await this.#admit(method, host, port, `http://${hostPort(host, port)}`);
    if (!admission.ok) {
      answer(res, admission.status, admission.text);
      return;
    }
    const upstream = request({
      ...pinned(host, admission.addresses),
      port,
      method,
      path: `${url.pathname}${url.search}`,
      headers: { ...endToEnd(req.headers), host: url.host },
      setHost: false,
      agent: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
    upstream.on('response', (from) => {
      res.writeHead(from.statusCode ?? 502, endToEnd(from.headers));
      from.pipe(res);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (res.headersSent) res.destroy();
      else answer(res, 502, `agentk: ${url.origin} failed: ${error.code ?? error.message}\n`);
    });
    req.pipe(upstream);
  }
}

function refusalText(method: string, place: string, verdict: EgressVerdict): string {
  return `agentk: ${method} ${place} refused (${verdict.rule}): ${verdict.reason}\n`;
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(text);
}
