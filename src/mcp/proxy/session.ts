// One proxied MCP session, whatever carries it: messages from the client and from the
// server come in as text (one JSON-RPC message each), and go out through two channels the
// transport provides. This module owns the session: lifecycle (initialize, initialized,
// ready), ids (every forwarded request gets a fresh downstream id; server requests get a
// random relay id), timeouts, requests held while initialize is in flight, approval holds
// (an `ask` put to the client's user), server requests relayed to the client, bounded
// notification floods, group commit (--fsync), and a sealed trace on every way out. It
// knows nothing of pipes, processes or sockets: stdio.ts is one transport.
// Input distrusted: the client's messages, the server's messages, and the server's behaviour.

import { randomHex } from '../../crypto/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallResult } from '../../kernel/types.js';
import type { SealEvent } from '../../recorder/event.js';
import { topLevelId } from '../framing.js';
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
} from '../jsonrpc.js';
import { McpMediator } from '../mediation/mediator.js';
import {
  CLIENT_METHODS,
  CLIENT_NOTIFICATIONS,
  clientNotificationParams,
  type Outcome,
  SERVER_METHODS,
  SERVER_NOTIFICATIONS,
} from '../mediation/methods.js';
import { stripAgentkMetadata } from '../metadata.js';

export const DEFAULT_RESPONSE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
const MAX_IN_FLIGHT = 4096;
const MAX_HELD = 1024;
/** Characters of held client messages at most (a pipelined session may not buffer more). */
const MAX_HELD_BYTES = 64 * 1024 * 1024;
/** Characters of requests waiting on a person's approval at most (they are kept whole). */
const MAX_ASK_BYTES = 64 * 1024 * 1024;

/** The server side, as the transport carries it. */
export interface ServerChannel {
  /** Whether a message can be written to the server now. */
  readonly writable: boolean;
  /**
   * Write one message. A refusal (the proxy's own answer to a server request) may be
   * dropped when the server does not read: 'dropped'. 'closed' when it cannot be written.
   */
  send(line: string, refusal: boolean): 'sent' | 'dropped' | 'closed';
  /** The client is gone and nothing is in flight: end the server's input, then stop it. */
  shutdown(): void;
  /** Stop the server now. */
  terminate(): void;
}

/** The client side, as the transport carries it. */
export interface ClientChannel {
  send(line: string): void;
  /** The session is over: stop reading the client and end what it reads. */
  close(): void;
}

export interface SessionOptions {
  readonly kernel: Kernel;
  readonly serverId: string;
  readonly responseTimeoutMs?: number;
  readonly maxMessageBytes?: number;
  /**
   * Group commit: hold every message until the trace events before it are fsynced (the
   * kernel's trace must use `group` durability). Off: events are written, not fsynced.
   */
  readonly durable?: boolean;
  /**
   * One client request at a time: later messages wait until the earlier request is
   * answered. For replaying scripted transcripts, whose later requests were written
   * knowing earlier answers; live clients should not need it.
   */
  readonly serialize?: boolean;
  /** How long a person has to answer an approval request (default five minutes). */
  readonly approvalTimeoutMs?: number;
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

/** A forwarded client request waiting for the server's answer. */
interface Pending {
  readonly request: RpcRequest;
  readonly timer: NodeJS.Timeout;
  /** The id the request carries downstream (see #downstream). */
  readonly downstreamId: number;
}

/** A client request waiting for a person's approval. */
interface Ask {
  readonly request: RpcRequest;
  readonly key: string;
  readonly asked: SyscallResult;
  readonly text: string;
  readonly timer: NodeJS.Timeout;
}

/** A server request relayed to the client, waiting for its answer. */
interface Relayed {
  readonly serverId: JsonRpcId;
  readonly serverKey: string;
  readonly method: string;
  readonly timer: NodeJS.Timeout;
}

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

function faultName(error: unknown): string {
  return error instanceof Error ? error.name : 'error';
}

export class ProxySession {
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
  readonly maxMessageBytes: number;
  readonly #options: SessionOptions;
  readonly #kernel: Kernel;
  readonly #mediator: McpMediator;
  readonly #timeoutMs: number;
  readonly #approvalTimeoutMs: number;
  #client: ClientChannel | null = null;
  #server: ServerChannel | null = null;
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
  readonly #relayed = new Map<string, Relayed>();
  /** The server's own ids of the requests in #relayed, to the ids AgentK gave them. */
  readonly #serverIds = new Map<string, string>();
  readonly #asks = new Map<string, Ask>();
  /** Client request keys waiting on a person's answer (so the id stays taken). */
  readonly #asksByKey = new Set<string>();
  #askBytes = 0;
  #resolve!: (exit: ProxyExit) => void;
  #serverAlive = false;
  /** The client may still send (its input has not ended). */
  #clientOpen = true;
  /** Client messages that arrived while initialize was in flight (pipelined sessions). */
  #held: (string | null)[] = [];
  #heldBytes = 0;
  #state: Lifecycle = 'fresh';
  #clientCapabilities: Record<string, unknown> = {};
  #finished = false;
  #stopping = false;
  /** The client has closed: the server is stopped once nothing is in flight. */
  #draining = false;
  #drainCheck = false;
  #tokens: number;
  #tokensAt = Date.now();
  #outbox: { toServer: boolean; line: string; refusal: boolean }[] = [];
  #commitScheduled = false;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#kernel = options.kernel;
    this.#mediator = new McpMediator(options.kernel, options.serverId);
    this.#timeoutMs = options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    this.#approvalTimeoutMs = options.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#tokens = options.notificationBurst ?? 200;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The session has ended (sealed, or the seal failed). */
  get finished(): boolean {
    return this.#finished;
  }

  /** Connect the transport's two sides. */
  attach(client: ClientChannel, server: ServerChannel): void {
    this.#client = client;
    this.#server = server;
  }

  // ---- events from the transport --------------------------------------------------------

  /** The server is running: messages may be forwarded. */
  serverStarted(): void {
    this.#serverAlive = true;
  }

  /** The server could not be started at all. */
  serverFailed(reason: string): void {
    this.#finish(2, reason);
  }

  /** One message from the client (null: its bytes were not valid UTF-8). */
  fromClient(text: string | null): void {
    this.#guard(() => this.#clientLine(text), text);
  }

  /** A client message over the size limit (its id, if one could be read). */
  clientOversize(id: JsonRpcId | null, bytes: number): void {
    this.#reply(
      errorLine(
        id,
        RPC.tooLarge,
        `message of ${bytes} bytes exceeds the ${this.maxMessageBytes}-byte limit`,
      ),
    );
  }

  /** One message from the server (null: its bytes were not valid UTF-8). */
  fromServer(text: string | null): void {
    this.#guard(() => this.#serverLine(text), null);
  }

  /** A server message over the size limit: the request it answers fails. */
  serverOversize(id: JsonRpcId | null, bytes: number): void {
    this.#guard(() => {
      this.stats.malformedFromServer += 1;
      const key = id === null ? undefined : this.#downstream.get(idKey(id));
      if (key !== undefined) {
        this.#failPending(
          key,
          RPC.tooLarge,
          `downstream response of ${bytes} bytes exceeds the ${this.maxMessageBytes}-byte limit (withheld by AgentK)`,
        );
      }
    }, null);
  }

  /** The server exited, failed, or broke its pipe. */
  serverGone(reason: string): void {
    if (this.#finished) return;
    this.#serverAlive = false;
    for (const key of [...this.#pending.keys()]) {
      this.#failPending(key, RPC.transportClosed, `the downstream server is gone: ${reason}`);
    }
    this.#finish(
      this.#clientOpen ? 1 : 0,
      this.#clientOpen ? reason : 'the client closed the session',
    );
  }

  /**
   * The client will send no more: let in-flight requests finish (each has its own timeout,
   * so this ends), then end the server's input and stop it.
   */
  clientClosed(): void {
    if (!this.#clientOpen) return;
    this.#clientOpen = false;
    if (!this.#serverAlive) {
      this.#finish(0, 'the client closed the session');
      return;
    }
    this.#draining = true;
    this.#checkDrained();
  }

  /**
   * End the session now (the operator's signal): answer whatever is in flight, seal the
   * trace, and stop the server.
   */
  stop(reason = 'stopped'): void {
    if (this.#finished) return;
    // Nothing held goes to the server now: held requests are answered, not forwarded.
    this.#stopping = true;
    this.#heldBytes = 0;
    const stopping = `the AgentK proxy is stopping (${reason})`;
    for (const text of this.#held.splice(0)) {
      const held = text === null ? null : parseMessage(text);
      if (held?.kind === 'request') this.#reply(errorLine(held.id, RPC.transportClosed, stopping));
    }
    for (const key of [...this.#pending.keys()]) {
      this.#failPending(key, RPC.transportClosed, stopping);
    }
    for (const ask of this.#asks.values()) {
      this.#reply(errorLine(ask.request.id, RPC.transportClosed, stopping));
    }
    this.#finish(0, reason);
  }

  // ---- output ---------------------------------------------------------------------------

  /**
   * Run a handler; an unexpected fault becomes an answer (or a dropped line), never a
   * crash that would leave the session unanswered and the trace unsealed.
   */
  #guard(work: () => void, clientText: string | null): void {
    try {
      work();
    } catch (error) {
      this.stats.faults += 1;
      if (clientText === null) return;
      const message = parseMessage(clientText);
      const id = message.kind === 'request' ? message.id : null;
      if (id !== null) this.#untrack(idKey(id));
      this.#reply(
        errorLine(
          id,
          RPC.internalError,
          `AgentK could not mediate this message (${faultName(error)}); refused`,
        ),
      );
    }
  }

  #reply(line: string): void {
    this.stats.answeredByProxy += 1;
    this.#toClient(line);
  }

  #toClient(line: string): void {
    if (this.#options.durable) this.#queue({ toServer: false, line, refusal: false });
    else this.#client?.send(line);
  }

  /**
   * Write to the server. A client's message always goes (the transport slows the client
   * when the server does not read); the proxy's own refusals of server requests are
   * dropped once the server stops reading, so a server that floods and never reads cannot
   * fill memory.
   */
  #toServer(line: string, refusal = false): boolean {
    if (!this.#serverAlive || !this.#server?.writable) return false;
    if (this.#options.durable) {
      this.#queue({ toServer: true, line, refusal });
      return true;
    }
    return this.#writeServer(line, refusal);
  }

  #writeServer(line: string, refusal: boolean): boolean {
    if (!this.#serverAlive || !this.#server) return false;
    const sent = this.#server.send(line, refusal);
    if (sent === 'dropped') this.stats.refusalsDropped += 1;
    return sent === 'sent';
  }

  /**
   * Group commit (--fsync): messages wait in the outbox until the events that allowed
   * them are durable; one fsync per turn of the event loop covers every event of it.
   */
  #queue(item: { toServer: boolean; line: string; refusal: boolean }): void {
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
      if (!this.#kernel.closed) this.#kernel.sync();
    } catch (error) {
      // Fail closed: nothing whose evidence may be lost goes out.
      this.#outbox = [];
      this.#finish(1, `the trace cannot be made durable: ${(error as Error).message}`);
      return;
    }
    const items = this.#outbox;
    this.#outbox = [];
    for (const item of items) {
      if (item.toServer) this.#writeServer(item.line, item.refusal);
      else this.#client?.send(item.line);
    }
  }

  // ---- client -> server -----------------------------------------------------------------

  #clientLine(text: string | null): void {
    if (this.#finished) return;
    // A client may pipeline its session (initialize, initialized, requests) without
    // waiting: hold what follows initialize until the server has answered it, and in
    // serial mode everything that follows a request until it is answered.
    if (this.#mustHold()) {
      this.#hold(text);
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

  #mustHold(): boolean {
    return (
      this.#state === 'initializing' ||
      (this.#options.serialize === true && this.#pending.size + this.#asks.size > 0)
    );
  }

  /**
   * Hold a client message until the session may take it. An answer is not new work, and
   * in serial mode what holds the rest may be waiting on it: the answer to a server
   * request in flight, or to an approval question while nothing else is (its request then
   * goes on alone). Any other answer waits its turn.
   */
  #hold(text: string | null): void {
    const early = text === null ? null : parseMessage(text);
    if (
      early?.kind === 'response' &&
      typeof early.id === 'string' &&
      (this.#relayed.has(early.id) || (this.#asks.has(early.id) && this.#pending.size === 0))
    ) {
      this.#clientResponse(early);
      return;
    }
    if (this.#held.length >= MAX_HELD || this.#heldBytes + (text?.length ?? 0) > MAX_HELD_BYTES) {
      if (early?.kind === 'request') {
        this.#reply(
          errorLine(
            early.id,
            RPC.invalidRequest,
            'too many messages sent before the previous ones were answered',
          ),
        );
      }
      return;
    }
    this.#held.push(text);
    this.#heldBytes += text?.length ?? 0;
  }

  /** Process held messages in order, until one of them has to wait again. */
  #releaseHeld(): void {
    while (this.#held.length > 0 && !this.#mustHold() && !this.#finished && !this.#stopping) {
      const next = this.#held.shift() as string | null;
      this.#heldBytes -= next?.length ?? 0;
      // Each held message under its own guard: a fault answers that request, by its id.
      this.#guard(() => this.#clientLine(next), next);
    }
    this.#checkDrained();
  }

  /** The client answers an approval question, or a server request it was relayed. */
  #clientResponse(message: RpcResponse): void {
    if (typeof message.id === 'string' && this.#asks.has(message.id)) {
      this.#answered(message.id, message);
      return;
    }
    // The client's answer to a server request: only the JSON-RPC members go on, under
    // the server's own id.
    const relayed = typeof message.id === 'string' ? this.#relayed.get(message.id) : undefined;
    if (relayed) {
      clearTimeout(relayed.timer);
      this.#relayed.delete(message.id as string);
      this.#serverIds.delete(relayed.serverKey);
      this.#toServer(rebuild({ ...message.message, id: relayed.serverId }, MEMBERS.response));
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
      this.#clientCancelled(message);
      return;
    }
    const { params } = stripAgentkMetadata(message.params);
    const forwarded = clientNotificationParams(message.method, params);
    if (forwarded === null) return;
    this.#toServer(rebuild({ ...message.message, params: forwarded }, MEMBERS.notification));
  }

  /**
   * The client gave up on a request: stop waiting, and never answer it later. The server
   * knows the request by its downstream id; one it never got is not its concern.
   */
  #clientCancelled(message: RpcNotification): void {
    const requestId = message.params?.requestId;
    if (!isValidId(requestId)) return;
    const key = idKey(requestId);
    const pending = this.#pending.get(key);
    this.#forget(key);
    // A request cancelled while its approval was being asked: ask no more.
    for (const [askId, ask] of this.#asks) if (ask.key === key) this.#takeAsk(askId);
    if (!pending) return;
    // Only the id: a free-text `reason` would be a channel past the kernel.
    this.#toServer(
      rebuild(
        { ...message.message, params: { requestId: pending.downstreamId } },
        MEMBERS.notification,
      ),
    );
  }

  #clientRequest(request: RpcRequest, text: string): void {
    this.stats.clientRequests += 1;
    const { id, method } = request;
    const refusal = this.#requestRefusal(request);
    if (refusal !== null) {
      this.#reply(errorLine(id, refusal.code, refusal.message));
      return;
    }
    if (method === 'initialize') {
      const capabilities = request.params?.capabilities;
      this.#clientCapabilities =
        typeof capabilities === 'object' && capabilities !== null && !Array.isArray(capabilities)
          ? (capabilities as Record<string, unknown>)
          : {};
    }
    const canAsk =
      typeof this.#clientCapabilities.elicitation === 'object' &&
      this.#clientCapabilities.elicitation !== null;
    const downstreamId = this.#nextDownstreamId++;
    const outcome = this.#mediator.clientRequest(request, canAsk, downstreamId);
    this.#act(request, idKey(id), outcome, text, downstreamId);
  }

  /** Why a client request is refused before mediation (method, id, lifecycle), or null. */
  #requestRefusal(request: RpcRequest): { code: number; message: string } | null {
    const { id, method } = request;
    if (!CLIENT_METHODS.has(method)) {
      return {
        code: RPC.methodNotFound,
        message: `method ${JSON.stringify(method.slice(0, 64))} has no AgentK policy contract; refused, not forwarded`,
      };
    }
    const key = idKey(id);
    if (this.#pending.has(key) || this.#asksByKey.has(key)) {
      return { code: RPC.invalidRequest, message: 'Invalid Request: this id is already in flight' };
    }
    // Requests waiting on a person count as in flight: they hold memory just the same.
    if (this.#pending.size + this.#asks.size >= MAX_IN_FLIGHT) {
      return {
        code: RPC.invalidRequest,
        message: `too many requests in flight (limit ${MAX_IN_FLIGHT})`,
      };
    }
    if (method === 'initialize' && this.#state !== 'fresh') {
      return { code: RPC.invalidRequest, message: 'the session is already initialized' };
    }
    if (method !== 'initialize' && method !== 'ping' && this.#state !== 'ready') {
      return {
        code: RPC.notInitialized,
        message: 'session not initialized: send initialize, then notifications/initialized',
      };
    }
    if (!this.#serverAlive) {
      return { code: RPC.transportClosed, message: 'the downstream server is not running' };
    }
    return null;
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
    const timer = setTimeout(() => this.#guard(() => this.#timedOut(key), null), this.#timeoutMs);
    this.#pending.set(key, { request: slim(request), timer, downstreamId });
    this.#downstream.set(idKey(downstreamId), key);
    if (request.method === 'initialize') this.#state = 'initializing';
    if (this.#toServer(outcome.line)) this.stats.forwarded += 1;
    else this.#failPending(key, RPC.transportClosed, 'the downstream server is not running');
  }

  // ---- approvals ------------------------------------------------------------------------

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

  /** Stop waiting on an approval; returns what was waiting, if anything. */
  #takeAsk(askId: string): Ask | null {
    const ask = this.#asks.get(askId);
    if (!ask) return null;
    clearTimeout(ask.timer);
    this.#asks.delete(askId);
    this.#asksByKey.delete(ask.key);
    this.#askBytes -= ask.text.length;
    return ask;
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
          `AgentK could not carry out the approval (${faultName(error)}); refused`,
        ),
      );
    }
  }

  #approvalAnswered(ask: Ask, message: RpcResponse): void {
    const result = message.result as
      | { action?: unknown; content?: { approve?: unknown } }
      | undefined;
    const approved = result?.action === 'accept' && result.content?.approve === true;
    const action = typeof result?.action === 'string' ? result.action.slice(0, 20) : 'error';
    this.#kernel.approve(ask.asked.requestHash, {
      approver: 'mcp-client-user',
      approved,
      note: `elicitation ${action}`,
    });
    if (!approved) {
      this.#reply(this.#mediator.declined(ask.request, ask.asked, `the user answered ${action}`));
      return;
    }
    if (this.#finished || !this.#serverAlive) {
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
    const outcome = this.#mediator.clientRequest(request, false, downstreamId);
    this.#act(request, ask.key, outcome, '', downstreamId);
  }

  // ---- pending requests -----------------------------------------------------------------

  /** Stop tracking a pending request (a late answer then matches nothing and is dropped). */
  #untrack(key: string): Pending | undefined {
    const pending = this.#pending.get(key);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.#pending.delete(key);
    this.#downstream.delete(idKey(pending.downstreamId));
    this.#checkDrained();
    return pending;
  }

  /** The client cancelled a request: stop waiting for it. */
  #forget(key: string): void {
    const pending = this.#untrack(key);
    if (!pending) return;
    if (pending.request.method === 'initialize') this.#state = 'fresh';
    this.#releaseHeld();
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

  // ---- server -> client -----------------------------------------------------------------

  #serverLine(text: string | null): void {
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
      case 'response':
        this.#serverResponse(message);
        return;
      case 'request':
        this.#serverRequest(message);
        return;
      case 'notification':
        this.#serverNotification(message, text);
        return;
    }
  }

  #serverResponse(message: RpcResponse): void {
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
        `AgentK could not mediate the downstream answer (${faultName(error)}); withheld`,
      );
    }
    this.#toClient(line);
    if (pending.request.method === 'initialize') {
      this.#state =
        (JSON.parse(line) as { error?: unknown }).error === undefined ? 'initialized' : 'fresh';
    }
    this.#releaseHeld();
  }

  #serverRequest(message: RpcRequest): void {
    // The lifecycle binds the server too: only ping once initialized, the rest once the
    // client has said it is ready.
    const open =
      this.#state === 'ready' || (this.#state === 'initialized' && message.method === 'ping');
    const refuse = (code: number, why: string) =>
      this.#toServer(errorLine(message.id, code, why), true);
    if (!SERVER_METHODS.has(message.method) || !open) {
      refuse(RPC.methodNotFound, 'not available through the AgentK proxy now');
      return;
    }
    const serverKey = idKey(message.id);
    if (this.#serverIds.has(serverKey)) {
      refuse(RPC.invalidRequest, 'Invalid Request: this id is already in flight');
      return;
    }
    if (this.#relayed.size >= MAX_IN_FLIGHT) {
      refuse(RPC.invalidRequest, 'too many requests in flight');
      return;
    }
    const relayId = `agentk-srv-${randomHex(12)}`;
    const outcome = this.#mediator.serverRequest(message, this.#clientCapabilities, relayId);
    if (outcome.action === 'reply') {
      this.#toServer(outcome.line, true);
      return;
    }
    // Keep only what is needed to answer; a client that never answers times it out.
    const timer = setTimeout(() => {
      if (!this.#relayed.delete(relayId)) return;
      this.#serverIds.delete(serverKey);
      refuse(
        RPC.timeout,
        `the client did not answer ${message.method} within ${this.#timeoutMs} ms`,
      );
    }, this.#timeoutMs);
    this.#relayed.set(relayId, {
      serverId: message.id,
      serverKey,
      method: message.method,
      timer,
    });
    this.#serverIds.set(serverKey, relayId);
    this.#toClient(outcome.line);
  }

  #serverNotification(message: RpcNotification, text: string): void {
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
  }

  /**
   * The server gave up on a request it sent the client: the client knows that request by
   * the id AgentK gave it, and nothing else the server names is the client's concern.
   */
  #serverCancelled(message: RpcNotification): void {
    const requestId = message.params?.requestId;
    const serverKey = isValidId(requestId) ? idKey(requestId) : '';
    const relayId = this.#serverIds.get(serverKey);
    const relayed = relayId === undefined ? undefined : this.#relayed.get(relayId);
    if (relayId === undefined || !relayed) {
      this.stats.notificationsDropped += 1;
      return;
    }
    clearTimeout(relayed.timer);
    this.#relayed.delete(relayId);
    this.#serverIds.delete(serverKey);
    const translated = { ...message.message, params: { ...message.params, requestId: relayId } };
    this.stats.notificationsForwarded += 1;
    // No bytes were received in this form: serialised once, from what is mediated.
    this.#toClient(this.#mediator.serverNotification(translated, ''));
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

  // ---- shutdown -------------------------------------------------------------------------

  /**
   * After the client closed: once nothing is in flight or held (looked at on the next
   * turn of the event loop after a change), what is queued goes out and the server stops.
   */
  #checkDrained(): void {
    if (!this.#draining || this.#drainCheck || this.#finished) return;
    this.#drainCheck = true;
    setImmediate(() => {
      this.#drainCheck = false;
      if (!this.#draining || this.#finished) return;
      if (this.#pending.size > 0 || this.#held.length > 0) return;
      this.#draining = false;
      try {
        this.#commit(); // with --fsync, what is still queued goes before the input ends
      } catch {
        this.#outbox = [];
      }
      this.#server?.shutdown();
    });
  }

  #finish(code: 0 | 1 | 2, reason: string): void {
    if (this.#finished) return;
    try {
      this.#commit(); // answers already decided still go out, once durable
    } catch {
      this.#outbox = [];
    }
    this.#finished = true;
    this.#draining = false;
    this.#clearTimers();
    if (this.#serverAlive) this.#server?.terminate();
    let seal: SealEvent | null = null;
    let finalCode = code;
    let finalReason = reason;
    try {
      seal = this.#kernel.closed ? null : this.#kernel.close();
    } catch (error) {
      // The seal could not be written: the trace stays unsealed, and the exit says so.
      finalCode = 1;
      finalReason = `${reason}; the trace could not be sealed (${error instanceof Error ? error.message : 'error'})`;
    } finally {
      this.#client?.close();
    }
    this.#resolve({ code: finalCode, reason: finalReason, seal, stats: this.stats });
  }

  #clearTimers(): void {
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
    this.#downstream.clear();
    for (const ask of this.#asks.values()) clearTimeout(ask.timer);
    this.#asks.clear();
    this.#askBytes = 0;
    for (const relayed of this.#relayed.values()) clearTimeout(relayed.timer);
    this.#relayed.clear();
    this.#serverIds.clear();
  }
}
