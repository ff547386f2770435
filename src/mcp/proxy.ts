// The transparent stdio proxy: an MCP client speaks to us as if we were its server; we
// start the real server as a child and mediate every message between them through the
// kernel (McpMediator). This module owns the plumbing: framing with size caps in both
// directions, the session lifecycle, concurrent in-flight requests, downstream timeouts,
// bounded notification floods, child exit and broken pipes, and a sealed trace on every
// way out. Nothing reaches the child that the kernel has not seen; nothing the child says
// reaches the client unmediated.
// Input distrusted: the client's bytes, the child's bytes, and the child's behaviour.

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { randomHex } from '../crypto/index.js';
import type { Kernel } from '../kernel/kernel.js';
import type { SyscallResult } from '../kernel/types.js';
import type { SealEvent } from '../recorder/event.js';
import { LineReader, topLevelId } from './framing.js';
import {
  errorLine,
  idKey,
  isValidId,
  type JsonRpcId,
  MEMBERS,
  parseMessage,
  RPC,
  type RpcNotification,
  type RpcRequest,
  type RpcResponse,
  rebuild,
} from './jsonrpc.js';
import {
  CLIENT_METHODS,
  CLIENT_NOTIFICATIONS,
  clientNotificationParams,
  McpMediator,
  type Outcome,
  SERVER_METHODS,
  SERVER_NOTIFICATIONS,
} from './mediator.js';
import { stripAgentkMetadata } from './metadata.js';

export const DEFAULT_RESPONSE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
const MAX_IN_FLIGHT = 4096;
/** How long a server may take to exit once its input ends, before SIGTERM, then SIGKILL.
 * Short enough that a client which gives us two seconds (the MCP SDK does) gets a sealed
 * trace. */
const SHUTDOWN_GRACE_MS = 800;
/** After the server exits, how long its stdout may stay open (held by a grandchild). */
const EXIT_GRACE_MS = 500;
/** Bytes the proxy queues for a server that does not read before dropping its refusals. */
const CHILD_BUFFER_LIMIT = 8 * 1024 * 1024;
const MAX_HELD = 1024;
/** Characters of held client messages at most (a pipelined session may not buffer more). */
const MAX_HELD_BYTES = 64 * 1024 * 1024;
/** Characters of requests waiting on a person's approval at most (they are kept whole). */
const MAX_ASK_BYTES = 64 * 1024 * 1024;

/**
 * What answering a pending request needs (its id, method, and the tool, resource or prompt
 * it named), without the rest of its (possibly large) params.
 */
function slim(request: RpcRequest): RpcRequest {
  const params: Record<string, unknown> = {};
  for (const key of ['name', 'uri', 'protocolVersion']) {
    const value = request.params?.[key];
    if (typeof value === 'string') params[key] = value;
  }
  return { kind: 'request', id: request.id, method: request.method, params, message: {} };
}

export interface ProxyOptions {
  readonly kernel: Kernel;
  readonly serverId: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The child's whole environment (see childEnvironment). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Where the client's messages come from and where ours go. */
  readonly input: Readable;
  readonly output: Writable;
  readonly responseTimeoutMs?: number;
  readonly maxMessageBytes?: number;
  /**
   * Group commit: hold every message until the trace events before it are fsynced (the
   * kernel's trace must use `group` durability). Off: events are written, not fsynced.
   */
  readonly durable?: boolean;
  /** Child stderr goes here if given; otherwise it is discarded. */
  readonly stderrFile?: string;
  /**
   * One client request at a time: later messages wait until the earlier request is
   * answered. For replaying scripted transcripts, whose later requests were written
   * knowing earlier answers; live clients should not need it.
   */
  readonly serialize?: boolean;
  /** How long a person has to answer an approval request (default five minutes). */
  readonly approvalTimeoutMs?: number;
  /** End `output` when the session ends (false for process.stdout). */
  readonly endOutput?: boolean;
  /** Server notifications: burst size and sustained rate per second. */
  readonly notificationBurst?: number;
  readonly notificationsPerSecond?: number;
}

export interface ProxyStats {
  clientRequests: number;
  forwarded: number;
  answeredByProxy: number;
  timeouts: number;
  notificationsForwarded: number;
  notificationsDropped: number;
  malformedFromServer: number;
  unmatchedFromServer: number;
  refusalsDropped: number;
  faults: number;
}

export interface ProxyExit {
  /** 0: the client closed the session; 1: the server exited or broke the pipe first; 2: it never started. */
  readonly code: 0 | 1 | 2;
  readonly reason: string;
  readonly seal: SealEvent | null;
  readonly stats: ProxyStats;
}

type Lifecycle = 'fresh' | 'initializing' | 'initialized' | 'ready';

interface Pending {
  readonly request: RpcRequest;
  readonly timer: NodeJS.Timeout;
  /** The id the request carries downstream (see #downstream). */
  readonly downstreamId: number;
}

export class StdioProxy {
  readonly stats: ProxyStats = {
    clientRequests: 0,
    forwarded: 0,
    answeredByProxy: 0,
    timeouts: 0,
    notificationsForwarded: 0,
    notificationsDropped: 0,
    malformedFromServer: 0,
    unmatchedFromServer: 0,
    refusalsDropped: 0,
    faults: 0,
  };
  readonly done: Promise<ProxyExit>;
  readonly #options: ProxyOptions;
  readonly #mediator: McpMediator;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  /** Forwarded client requests, by the client's id. */
  readonly #pending = new Map<string, Pending>();
  /**
   * The same requests by the id AgentK gave them downstream: a number used once, so an
   * answer to a request that timed out or was cancelled can never pass as the answer to a
   * later request, even one that reuses the client's id; it matches nothing and is dropped.
   */
  readonly #downstream = new Map<string, string>();
  #nextDownstreamId = 1;
  /**
   * Server requests relayed to the client, by the id AgentK gave them (random, so that
   * neither peer can guess or collide with it; the client never sees the server's ids).
   */
  readonly #serverPending = new Map<
    string,
    { serverId: JsonRpcId; serverKey: string; method: string; timer: NodeJS.Timeout }
  >();
  /** The server's own ids of the requests in #serverPending, to the ids AgentK gave them. */
  readonly #serverIds = new Map<string, string>();
  readonly #asks = new Map<
    string,
    { request: RpcRequest; key: string; asked: SyscallResult; text: string; timer: NodeJS.Timeout }
  >();
  /** Client request keys waiting on a person's answer (so the id stays taken). */
  readonly #asksByKey = new Set<string>();
  readonly #approvalTimeoutMs: number;
  #resolve!: (exit: ProxyExit) => void;
  #child: ChildProcess | null = null;
  #childAlive = false;
  /** The client's input is still open (it may send more). */
  #clientOpen = true;
  /** The client's output can still be written. */
  #outputOpen = true;
  /** Client messages that arrived while initialize was in flight (pipelined sessions). */
  #held: (string | null)[] = [];
  #state: Lifecycle = 'fresh';
  #clientCapabilities: Record<string, unknown> = {};
  #finished = false;
  #tokens: number;
  #outbox: { child: boolean; line: string; refusal: boolean }[] = [];
  #stopping = false;
  #heldBytes = 0;
  #askBytes = 0;
  #commitScheduled = false;
  #tokensAt = Date.now();

  constructor(options: ProxyOptions) {
    this.#options = options;
    this.#mediator = new McpMediator(options.kernel, options.serverId);
    this.#timeoutMs = options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#approvalTimeoutMs = options.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    this.#tokens = options.notificationBurst ?? 200;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Start the child and begin relaying. Resolves once the child is running. */
  start(): Promise<void> {
    const options = this.#options;
    const child = spawn(options.command, [...options.args], {
      env: { ...options.env },
      stdio: ['pipe', 'pipe', options.stderrFile ? 'pipe' : 'ignore'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      windowsHide: true,
    });
    this.#child = child;
    if (options.stderrFile && child.stderr) {
      const file = createWriteStream(options.stderrFile, { flags: 'a' });
      file.on('error', () => child.stderr?.resume()); // a failing log never stops the session
      child.stderr.pipe(file);
    }

    const fromChild = new LineReader(this.#maxBytes, {
      line: (text) => this.#guard(() => this.#childLine(text), null),
      oversize: (id, bytes) => this.#guard(() => this.#childOversize(id, bytes), null),
    });
    child.stdout?.on('data', (chunk: Buffer) => this.#batched(() => fromChild.push(chunk)));
    child.stdout?.on('end', () => fromChild.end());
    child.stdin?.on('error', () => this.#childGone('the server closed its input (broken pipe)'));
    // Backpressure: a client that does not read slows the server, instead of filling memory.
    options.output.on('drain', () => {
      child.stdout?.resume();
      if (!this.#finished && (child.stdin?.writableLength ?? 0) === 0) options.input.resume();
    });

    const fromClient = new LineReader(this.#maxBytes, {
      line: (text) => this.#guard(() => this.#clientLine(text), text),
      oversize: (id, bytes) => {
        this.#reply(
          errorLine(
            id,
            RPC.tooLarge,
            `message of ${bytes} bytes exceeds the ${this.#maxBytes}-byte limit`,
          ),
        );
      },
    });
    options.input.on('data', (chunk: Buffer) => this.#batched(() => fromClient.push(chunk)));
    child.stdin?.on('drain', () => {
      if (!this.#finished && !options.output.writableNeedDrain) options.input.resume();
    });
    options.input.on('end', () => {
      fromClient.end();
      this.#clientClosed();
    });
    options.input.on('error', () => this.#clientClosed());
    options.output.on('error', () => {
      this.#outputOpen = false;
      this.#clientClosed();
    });

    return new Promise((resolve) => {
      child.once('spawn', () => {
        this.#childAlive = true;
        resolve();
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (!this.#childAlive) {
          this.#finish(2, `cannot start ${options.command}: ${error.code ?? error.message}`);
          resolve();
        } else this.#childGone(`the server failed: ${error.code ?? 'error'}`);
      });
      // 'close', not 'exit': every byte the server wrote before exiting is relayed first.
      child.once('close', (code, signal) => {
        this.#childGone(`the server exited (${signal ?? `code ${code}`})`);
      });
      // But a grandchild can hold the server's stdout open forever: do not wait on it.
      child.once('exit', (code, signal) => {
        setTimeout(
          () => this.#childGone(`the server exited (${signal ?? `code ${code}`})`),
          EXIT_GRACE_MS,
        ).unref();
      });
    });
  }

  /**
   * Run a handler; an unexpected fault becomes an answer (or a dropped line), never a
   * crash that would leave the session unanswered and the trace unsealed.
   */
  #guard(work: () => void, clientText: string | null): void {
    try {
      work();
    } catch (error) {
      this.stats.faults += 1;
      if (clientText !== null) {
        const message = parseMessage(clientText);
        const id = message.kind === 'request' ? message.id : null;
        if (id !== null) {
          this.#untrack(idKey(id));
        }
        this.#reply(
          errorLine(
            id,
            RPC.internalError,
            `AgentK could not mediate this message (${error instanceof Error ? error.name : 'error'}); refused`,
          ),
        );
      }
    }
  }

  #toClient(line: string): void {
    if (this.#options.durable) {
      this.#queue({ child: false, line, refusal: false });
      return;
    }
    this.#writeClient(line);
  }

  /**
   * Handle one chunk read from either side with both outputs corked: the lines a chunk
   * carries (many, with requests in flight) leave in one write(2) per side instead of one
   * each. Uncorked before returning, so nothing waits past the chunk.
   */
  #batched(handle: () => void): void {
    const output = this.#options.output;
    const stdin = this.#child?.stdin;
    output.cork();
    stdin?.cork();
    try {
      handle();
    } finally {
      output.uncork();
      stdin?.uncork();
    }
  }

  #writeClient(line: string): void {
    if (!this.#outputOpen) return;
    if (!this.#options.output.write(`${line}\n`)) {
      // The client is not reading: stop reading the server and the client until it does.
      this.#child?.stdout?.pause();
      this.#options.input.pause();
    }
  }

  /**
   * Group commit (--fsync): messages wait in the outbox until the events that allowed
   * them are durable; one fsync per turn of the event loop covers every event of it.
   */
  #queue(item: { child: boolean; line: string; refusal: boolean }): void {
    this.#outbox.push(item);
    if (!this.#commitScheduled) {
      this.#commitScheduled = true;
      setImmediate(() => this.#guard(() => this.#commit(), null));
    }
  }

  #commit(): void {
    this.#commitScheduled = false;
    if (this.#outbox.length === 0) return;
    try {
      if (!this.#options.kernel.closed) this.#options.kernel.sync();
    } catch (error) {
      // Fail closed: nothing whose evidence may be lost goes out.
      this.#outbox = [];
      this.#finish(1, `the trace cannot be made durable: ${(error as Error).message}`);
      return;
    }
    const items = this.#outbox;
    this.#outbox = [];
    for (const item of items) {
      if (item.child) this.#writeChild(item.line, item.refusal);
      else this.#writeClient(item.line);
    }
  }

  /**
   * Write to the server. A client's message always goes (and pauses the client when the
   * pipe is full); the proxy's own refusals of server requests are dropped once the server
   * stops reading, so a server that floods and never reads cannot fill memory.
   */
  #toChild(line: string, refusal = false): boolean {
    if (this.#options.durable) {
      const stdin = this.#child?.stdin;
      if (!this.#childAlive || !stdin || stdin.destroyed) return false;
      this.#queue({ child: true, line, refusal });
      return true;
    }
    return this.#writeChild(line, refusal);
  }

  #writeChild(line: string, refusal: boolean): boolean {
    const stdin = this.#child?.stdin;
    if (!this.#childAlive || !stdin || stdin.destroyed) return false;
    if (refusal && stdin.writableLength > CHILD_BUFFER_LIMIT) {
      this.stats.refusalsDropped += 1;
      return false;
    }
    if (!stdin.write(`${line}\n`) && !refusal) this.#options.input.pause();
    return true;
  }

  #reply(line: string): void {
    this.stats.answeredByProxy += 1;
    this.#toClient(line);
  }

  // ---- client -> server ----------------------------------------------------------------

  #clientLine(text: string | null): void {
    if (this.#finished) return;
    // A client may pipeline its session (initialize, initialized, requests) without
    // waiting: hold what follows initialize until the server has answered it, and in
    // serial mode everything that follows a request until it is answered.
    if (this.#mustHold()) {
      // An answer is not new work, and in serial mode what holds the rest may be waiting
      // on it: the answer to a server request in flight, or to an approval question while
      // nothing else is (its request then goes on alone). Any other answer waits its turn.
      const early = text === null ? null : parseMessage(text);
      if (
        early?.kind === 'response' &&
        typeof early.id === 'string' &&
        (this.#serverPending.has(early.id) ||
          (this.#asks.has(early.id) && this.#pending.size === 0))
      ) {
        this.#clientResponse(early);
        return;
      }
      if (this.#held.length >= MAX_HELD || this.#heldBytes + (text?.length ?? 0) > MAX_HELD_BYTES) {
        const held = text === null ? null : parseMessage(text);
        if (held?.kind === 'request') {
          this.#reply(
            errorLine(
              held.id,
              RPC.invalidRequest,
              'too many messages sent before the previous ones were answered',
            ),
          );
        }
        return;
      }
      this.#held.push(text);
      this.#heldBytes += text?.length ?? 0;
      return;
    }
    if (text === null) {
      this.#reply(errorLine(null, RPC.parseError, 'Parse error: not valid UTF-8'));
      return;
    }
    const message = parseMessage(text);
    switch (message.kind) {
      case 'invalid':
        this.#reply(errorLine(message.id, message.code, message.reason));
        return;
      case 'notification':
        this.#clientNotification(message);
        return;
      case 'response':
        this.#clientResponse(message);
        return;
      case 'request':
        this.#clientRequest(message, text);
        return;
    }
  }

  /** The client answers an approval question, or a server request it was relayed. */
  #clientResponse(message: RpcResponse): void {
    if (typeof message.id === 'string' && this.#asks.has(message.id)) {
      this.#answered(message.id, message);
      return;
    }
    // The client's answer to a server request: only the JSON-RPC members go on, under
    // the server's own id.
    const pending =
      typeof message.id === 'string' ? this.#serverPending.get(message.id) : undefined;
    if (pending) {
      clearTimeout(pending.timer);
      this.#serverPending.delete(message.id as string);
      this.#serverIds.delete(pending.serverKey);
      this.#toChild(rebuild({ ...message.message, id: pending.serverId }, MEMBERS.response));
    }
  }

  #clientNotification(message: RpcNotification): void {
    if (!CLIENT_NOTIFICATIONS.has(message.method)) return;
    if (message.method === 'notifications/initialized') {
      if (this.#state !== 'initialized') return;
      this.#state = 'ready';
    } else if (this.#state !== 'ready') {
      return; // no notification may reach the server before the session is ready
    }
    if (message.method === 'notifications/cancelled') {
      // The client gave up on a request: stop waiting, and never answer it later. The
      // server knows the request by its downstream id; one it never got is not its concern.
      const requestId = message.params?.requestId;
      const pending = isValidId(requestId) ? this.#pending.get(idKey(requestId)) : undefined;
      if (isValidId(requestId)) {
        this.#forget(idKey(requestId));
        this.#dropAsk(idKey(requestId));
      }
      if (!pending) return;
      // Only the id: a free-text `reason` would be a channel past the kernel.
      this.#toChild(
        rebuild(
          { ...message.message, params: { requestId: pending.downstreamId } },
          MEMBERS.notification,
        ),
      );
      return;
    }
    const { params } = stripAgentkMetadata(message.params);
    const forwarded = clientNotificationParams(message.method, params);
    if (forwarded === null) return;
    this.#toChild(rebuild({ ...message.message, params: forwarded }, MEMBERS.notification));
  }

  /** A request the client cancelled while its approval was being asked: ask no more. */
  #dropAsk(key: string): void {
    for (const [askId, ask] of this.#asks) if (ask.key === key) this.#takeAsk(askId);
  }

  /** Stop waiting on an approval; returns what was waiting, if anything. */
  #takeAsk(
    askId: string,
  ): { request: RpcRequest; key: string; asked: SyscallResult; text: string } | null {
    const ask = this.#asks.get(askId);
    if (!ask) return null;
    clearTimeout(ask.timer);
    this.#asks.delete(askId);
    this.#asksByKey.delete(ask.key);
    this.#askBytes -= ask.text.length;
    return ask;
  }

  /** Stop tracking a pending request (a late answer then matches nothing and is dropped). */
  #untrack(key: string): Pending | undefined {
    const pending = this.#pending.get(key);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.#pending.delete(key);
    this.#downstream.delete(idKey(pending.downstreamId));
    return pending;
  }

  /** The client cancelled a request: stop waiting for it. */
  #forget(key: string): void {
    const pending = this.#untrack(key);
    if (!pending) return;
    if (pending.request.method === 'initialize') this.#state = 'fresh';
    this.#releaseHeld();
  }

  #clientRequest(request: RpcRequest, text: string): void {
    this.stats.clientRequests += 1;
    const { id, method } = request;
    if (!CLIENT_METHODS.has(method)) {
      this.#reply(
        errorLine(
          id,
          RPC.methodNotFound,
          `method ${JSON.stringify(method.slice(0, 64))} has no AgentK policy contract; refused, not forwarded`,
        ),
      );
      return;
    }
    const key = idKey(id);
    if (this.#pending.has(key) || this.#asksByKey.has(key)) {
      this.#reply(
        errorLine(id, RPC.invalidRequest, 'Invalid Request: this id is already in flight'),
      );
      return;
    }
    // Requests waiting on a person count as in flight: they hold memory just the same.
    if (this.#pending.size + this.#asks.size >= MAX_IN_FLIGHT) {
      this.#reply(
        errorLine(id, RPC.invalidRequest, `too many requests in flight (limit ${MAX_IN_FLIGHT})`),
      );
      return;
    }
    if (method === 'initialize') {
      if (this.#state !== 'fresh') {
        this.#reply(errorLine(id, RPC.invalidRequest, 'the session is already initialized'));
        return;
      }
      const capabilities = request.params?.capabilities;
      this.#clientCapabilities =
        typeof capabilities === 'object' && capabilities !== null && !Array.isArray(capabilities)
          ? (capabilities as Record<string, unknown>)
          : {};
    } else if (method !== 'ping' && this.#state !== 'ready') {
      this.#reply(
        errorLine(
          id,
          RPC.notInitialized,
          'session not initialized: send initialize, then notifications/initialized',
        ),
      );
      return;
    }
    if (!this.#childAlive) {
      this.#reply(errorLine(id, RPC.transportClosed, 'the downstream server is not running'));
      return;
    }
    const canAsk =
      typeof this.#clientCapabilities.elicitation === 'object' &&
      this.#clientCapabilities.elicitation !== null;
    const downstreamId = this.#nextDownstreamId++;
    this.#act(
      request,
      key,
      this.#mediator.clientRequest(request, canAsk, downstreamId),
      text,
      downstreamId,
    );
  }

  /** Carry out the mediator's outcome for a client request. */
  #act(
    request: RpcRequest,
    key: string,
    outcome: Outcome,
    text: string,
    downstreamId: number,
  ): void {
    if (outcome.action === 'reply') {
      this.#reply(outcome.line);
      return;
    }
    if (outcome.action === 'ask' && outcome.syscall) {
      if (this.#askBytes + text.length > MAX_ASK_BYTES) {
        this.#reply(
          this.#mediator.declined(
            request,
            outcome.syscall,
            'too many requests are waiting for approval',
          ),
        );
        return;
      }
      this.#ask(request, key, outcome.syscall, text);
      return;
    }
    const timer = setTimeout(() => this.#timedOut(key), this.#timeoutMs);
    this.#pending.set(key, { request: slim(request), timer, downstreamId });
    this.#downstream.set(idKey(downstreamId), key);
    if (request.method === 'initialize') this.#state = 'initializing';
    if (this.#toChild(outcome.line)) this.stats.forwarded += 1;
    else this.#failPending(key, RPC.transportClosed, 'the downstream server is not running');
  }

  /**
   * The policy asks a person: put the question to the client's user (MCP elicitation),
   * then record the answer as a human.approve syscall bound to the request hash.
   */
  #ask(request: RpcRequest, key: string, asked: SyscallResult, text: string): void {
    const askId = `agentk-ask-${randomHex(12)}`;
    const question = JSON.stringify({
      jsonrpc: '2.0',
      id: askId,
      method: 'elicitation/create',
      params: this.#mediator.approvalQuestion(asked),
    });
    // Sent first: if sending fails, nothing is left waiting (the fault answers the request).
    this.#toClient(question);
    const timer = setTimeout(() => {
      if (!this.#takeAsk(askId)) return;
      this.#reply(
        this.#mediator.declined(request, asked, 'nobody answered the approval request in time'),
      );
    }, this.#approvalTimeoutMs);
    // Only the request's text is kept (what the cap counts); it is parsed again if approved.
    this.#asks.set(askId, { request: slim(request), key, asked, text, timer });
    this.#asksByKey.add(key);
    this.#askBytes += text.length;
  }

  #answered(askId: string, message: RpcResponse): void {
    const ask = this.#takeAsk(askId);
    if (!ask) return;
    try {
      this.#approvalAnswered(ask, message);
    } catch (error) {
      // The question is gone: the request it held must still be answered.
      this.stats.faults += 1;
      this.#untrack(ask.key);
      this.#reply(
        errorLine(
          ask.request.id,
          RPC.internalError,
          `AgentK could not carry out the approval (${error instanceof Error ? error.name : 'error'}); refused`,
        ),
      );
    }
  }

  #approvalAnswered(
    ask: { request: RpcRequest; key: string; asked: SyscallResult; text: string },
    message: RpcResponse,
  ): void {
    const result = message.result as
      | { action?: unknown; content?: { approve?: unknown } }
      | undefined;
    const approved = result?.action === 'accept' && result.content?.approve === true;
    const action = typeof result?.action === 'string' ? result.action.slice(0, 20) : 'error';
    this.#options.kernel.approve(ask.asked.requestHash, {
      approver: 'mcp-client-user',
      approved,
      note: `elicitation ${action}`,
    });
    if (!approved) {
      this.#reply(this.#mediator.declined(ask.request, ask.asked, `the user answered ${action}`));
      return;
    }
    if (this.#finished || !this.#childAlive) {
      this.#reply(
        errorLine(ask.request.id, RPC.transportClosed, 'the downstream server is not running'),
      );
      return;
    }
    // The same text as asked about, so the same request: mediated again (the approval is
    // now on record for its hash), never asked again.
    const request = parseMessage(ask.text);
    if (request.kind !== 'request') throw new TypeError('an approved request no longer parses');
    const downstreamId = this.#nextDownstreamId++;
    this.#act(
      request,
      ask.key,
      this.#mediator.clientRequest(request, false, downstreamId),
      '',
      downstreamId,
    );
  }

  #mustHold(): boolean {
    return (
      this.#state === 'initializing' ||
      (this.#options.serialize === true && this.#pending.size + this.#asks.size > 0)
    );
  }

  /** Process held messages in order, until one of them has to wait again. */
  #releaseHeld(): void {
    while (this.#held.length > 0 && !this.#mustHold() && !this.#finished && !this.#stopping) {
      const next = this.#held.shift() as string | null;
      this.#heldBytes -= next?.length ?? 0;
      // Each held message under its own guard: a fault answers that request, by its id.
      this.#guard(() => this.#clientLine(next), next);
    }
  }

  #timedOut(key: string): void {
    const pending = this.#untrack(key);
    if (!pending) return;
    this.stats.timeouts += 1;
    this.#reply(this.#mediator.timeout(pending.request, this.#timeoutMs));
    if (pending.request.method === 'initialize') this.#state = 'fresh';
    this.#releaseHeld();
  }

  #failPending(key: string, code: number, message: string): void {
    const pending = this.#untrack(key);
    if (!pending) return;
    this.#reply(errorLine(pending.request.id, code, message));
    if (pending.request.method === 'initialize') this.#state = 'fresh';
    this.#releaseHeld();
  }

  // ---- server -> client ----------------------------------------------------------------

  #childLine(text: string | null): void {
    if (this.#finished) return;
    if (text === null) {
      this.stats.malformedFromServer += 1;
      return;
    }
    const message = parseMessage(text);
    switch (message.kind) {
      case 'invalid': {
        this.stats.malformedFromServer += 1;
        const id = message.id ?? topLevelId(text);
        const key = id === null ? undefined : this.#downstream.get(idKey(id));
        if (key !== undefined) {
          this.#failPending(
            key,
            RPC.badResponse,
            'downstream server sent a malformed response (withheld by AgentK)',
          );
        }
        return;
      }
      case 'response': {
        const key = this.#downstream.get(idKey(message.id));
        const pending = key === undefined ? undefined : this.#untrack(key);
        if (!pending) {
          // A late answer to a request that timed out or was cancelled, or no request at all.
          this.stats.unmatchedFromServer += 1;
          return;
        }
        let line: string;
        try {
          line = this.#mediator.serverResponse(pending.request, message);
        } catch (error) {
          // Mediation failed: the answer is withheld, but the request is still answered.
          this.stats.faults += 1;
          line = errorLine(
            pending.request.id,
            RPC.internalError,
            `AgentK could not mediate the downstream answer (${error instanceof Error ? error.name : 'error'}); withheld`,
          );
        }
        this.#toClient(line);
        if (pending.request.method === 'initialize') {
          this.#state =
            (JSON.parse(line) as { error?: unknown }).error === undefined ? 'initialized' : 'fresh';
        }
        this.#releaseHeld();
        return;
      }
      case 'request': {
        // The lifecycle binds the server too: only ping once initialized, the rest once
        // the client has said it is ready.
        const open =
          this.#state === 'ready' || (this.#state === 'initialized' && message.method === 'ping');
        const refuse = (code: number, why: string) =>
          this.#toChild(errorLine(message.id, code, why), true);
        if (!SERVER_METHODS.has(message.method) || !open) {
          refuse(RPC.methodNotFound, 'not available through the AgentK proxy now');
          return;
        }
        const serverKey = idKey(message.id);
        if (this.#serverIds.has(serverKey)) {
          refuse(RPC.invalidRequest, 'Invalid Request: this id is already in flight');
          return;
        }
        if (this.#serverPending.size >= MAX_IN_FLIGHT) {
          refuse(RPC.invalidRequest, 'too many requests in flight');
          return;
        }
        const relayId = `agentk-srv-${randomHex(12)}`;
        const outcome = this.#mediator.serverRequest(message, this.#clientCapabilities, relayId);
        if (outcome.action === 'reply') {
          this.#toChild(outcome.line, true);
          return;
        }
        // Keep only what is needed to answer; a client that never answers times it out.
        const timer = setTimeout(() => {
          if (this.#serverPending.delete(relayId)) {
            this.#serverIds.delete(serverKey);
            refuse(
              RPC.timeout,
              `the client did not answer ${message.method} within ${this.#timeoutMs} ms`,
            );
          }
        }, this.#timeoutMs);
        this.#serverPending.set(relayId, {
          serverId: message.id,
          serverKey,
          method: message.method,
          timer,
        });
        this.#serverIds.set(serverKey, relayId);
        this.#toClient(outcome.line);
        return;
      }
      case 'notification': {
        if (
          !SERVER_NOTIFICATIONS.has(message.method) ||
          this.#state === 'fresh' ||
          this.#state === 'initializing' ||
          !this.#takeToken()
        ) {
          this.stats.notificationsDropped += 1;
          return;
        }
        if (message.method === 'notifications/cancelled') {
          this.#serverCancelled(message);
          return;
        }
        this.stats.notificationsForwarded += 1;
        this.#toClient(this.#mediator.serverNotification(message.message, text));
        return;
      }
    }
  }

  /**
   * The server gave up on a request it sent the client: the client knows that request by
   * the id AgentK gave it, and nothing else the server names is the client's concern.
   */
  #serverCancelled(message: RpcNotification): void {
    const requestId = message.params?.requestId;
    const serverKey = isValidId(requestId) ? idKey(requestId) : '';
    const relayId = this.#serverIds.get(serverKey);
    const relayed = relayId === undefined ? undefined : this.#serverPending.get(relayId);
    if (relayId === undefined || !relayed) {
      this.stats.notificationsDropped += 1;
      return;
    }
    clearTimeout(relayed.timer);
    this.#serverPending.delete(relayId);
    this.#serverIds.delete(serverKey);
    const translated = { ...message.message, params: { ...message.params, requestId: relayId } };
    this.stats.notificationsForwarded += 1;
    // No bytes were received in this form: serialised once, from what is mediated.
    this.#toClient(this.#mediator.serverNotification(translated, ''));
  }

  #childOversize(id: string | number | null, bytes: number): void {
    this.stats.malformedFromServer += 1;
    const key = id === null ? undefined : this.#downstream.get(idKey(id));
    if (key !== undefined) {
      this.#failPending(
        key,
        RPC.tooLarge,
        `downstream response of ${bytes} bytes exceeds the ${this.#maxBytes}-byte limit (withheld by AgentK)`,
      );
    }
  }

  /** Token bucket: constant memory, whatever the flood. */
  #takeToken(): boolean {
    const now = Date.now();
    const burst = this.#options.notificationBurst ?? 200;
    const rate = this.#options.notificationsPerSecond ?? 100;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#tokensAt) / 1000) * rate);
    this.#tokensAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  // ---- shutdown --------------------------------------------------------------------------

  #childGone(reason: string): void {
    if (this.#finished) return;
    this.#childAlive = false;
    for (const key of [...this.#pending.keys()]) {
      this.#failPending(key, RPC.transportClosed, `the downstream server is gone: ${reason}`);
    }
    this.#finish(
      this.#clientOpen ? 1 : 0,
      this.#clientOpen ? reason : 'the client closed the session',
    );
  }

  #clientClosed(): void {
    if (!this.#clientOpen) return;
    this.#clientOpen = false;
    const child = this.#child;
    if (!child || !this.#childAlive) {
      this.#finish(0, 'the client closed the session');
      return;
    }
    // Let in-flight requests finish (each has its own timeout, so this ends), then end the
    // server's input and stop it.
    const waitForQuiet = () => {
      if (!this.#finished && (this.#pending.size > 0 || this.#held.length > 0)) {
        setTimeout(waitForQuiet, 10);
        return;
      }
      try {
        this.#commit(); // with --fsync, what is still queued goes before the input ends
      } catch {
        this.#outbox = [];
      }
      child.stdin?.end();
      const term = setTimeout(() => child.kill('SIGTERM'), SHUTDOWN_GRACE_MS);
      const kill = setTimeout(() => child.kill('SIGKILL'), 2 * SHUTDOWN_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(term);
        clearTimeout(kill);
      });
    };
    waitForQuiet();
  }

  /**
   * End the session now (the operator's signal): answer whatever is in flight, seal the
   * trace, and stop the server (SIGTERM, then SIGKILL).
   */
  stop(reason = 'stopped'): void {
    if (this.#finished) return;
    // Nothing held goes to the server now: held requests are answered, not forwarded.
    this.#stopping = true;
    this.#heldBytes = 0;
    for (const text of this.#held.splice(0)) {
      const held = text === null ? null : parseMessage(text);
      if (held?.kind === 'request') {
        this.#reply(
          errorLine(held.id, RPC.transportClosed, `the AgentK proxy is stopping (${reason})`),
        );
      }
    }
    for (const key of [...this.#pending.keys()]) {
      this.#failPending(key, RPC.transportClosed, `the AgentK proxy is stopping (${reason})`);
    }
    for (const ask of this.#asks.values()) {
      this.#reply(
        errorLine(ask.request.id, RPC.transportClosed, `the AgentK proxy is stopping (${reason})`),
      );
    }
    this.#finish(0, reason);
  }

  #finish(code: 0 | 1 | 2, reason: string): void {
    if (this.#finished) return;
    try {
      this.#commit(); // answers already decided still go out, once durable
    } catch {
      this.#outbox = [];
    }
    this.#finished = true;
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
    this.#downstream.clear();
    for (const ask of this.#asks.values()) clearTimeout(ask.timer);
    this.#asks.clear();
    this.#askBytes = 0;
    for (const pending of this.#serverPending.values()) clearTimeout(pending.timer);
    this.#serverPending.clear();
    this.#serverIds.clear();
    const child = this.#child;
    if (child && this.#childAlive) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_GRACE_MS);
      child.once('exit', () => clearTimeout(kill));
    }
    let seal: SealEvent | null = null;
    let finalCode = code;
    let finalReason = reason;
    try {
      seal = this.#options.kernel.closed ? null : this.#options.kernel.close();
    } catch (error) {
      // The seal could not be written: the trace stays unsealed, and the exit says so.
      finalCode = 1;
      finalReason = `${reason}; the trace could not be sealed (${error instanceof Error ? error.message : 'error'})`;
    } finally {
      this.#options.input.pause();
      if (this.#outputOpen && this.#options.endOutput !== false) this.#options.output.end();
      this.#outputOpen = false;
    }
    this.#resolve({ code: finalCode, reason: finalReason, seal, stats: this.stats });
  }
}

/**
 * The child's environment: empty except PATH and HOME (so that `npx`, `node` and `uvx`
 * resolve and can use their caches) and the names the operator allowed.
 */
export function childEnvironment(
  parent: Readonly<Record<string, string | undefined>>,
  allowed: readonly string[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', ...allowed]) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
