// One proxied MCP session, whatever carries it: messages from the client and from the
// server come in as text (one JSON-RPC message each) and go out through two channels the
// transport provides (output.ts). This module owns the session and what the client sends:
// lifecycle (initialize, initialized, ready), requests forwarded under fresh downstream ids
// with timeouts (pending.ts), messages held while initialize is in flight (holds.ts),
// cancellations, a sealed trace on every way out. What the server sends is server-side.ts's,
// an `ask` put to the user approvals.ts's. No pipes, processes or sockets. Input distrusted.

import type { Kernel } from '../../kernel/kernel.js';
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
  CLIENT_NOTIFICATIONS,
  clientNotificationParams,
  type Outcome,
} from '../mediation/methods.js';
import { stripAgentkMetadata } from '../metadata.js';
import { admissionRefusal, canElicit, capabilitiesOf } from './admission.js';
import { ApprovalFlow } from './approvals.js';
import { HeldMessages } from './holds.js';
import { SessionOutput } from './output.js';
import { cancelledLine, type Pending, PendingRequests } from './pending.js';
import { ServerSide, type SessionPort } from './server-side.js';
import {
  type Batched,
  type ClientChannel,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_REQUEST_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  faultName,
  type Lifecycle,
  newStats,
  type ProxyExit,
  type ProxyStats,
  type ServerChannel,
  type SessionOptions,
} from './types.js';

export class ProxySession {
  readonly stats: ProxyStats = newStats();
  readonly done: Promise<ProxyExit>;
  readonly maxMessageBytes: number;
  readonly #options: SessionOptions;
  readonly #kernel: Kernel;
  readonly #mediator: McpMediator;
  readonly #timeoutMs: number;
  readonly #output: SessionOutput;
  readonly #serverSide: ServerSide;
  readonly #pending = new PendingRequests();
  readonly #approvals: ApprovalFlow;
  readonly #held = new HeldMessages();
  #resolve!: (exit: ProxyExit) => void;
  /** The client may still send (its input has not ended). */
  #clientOpen = true;
  #state: Lifecycle = 'fresh';
  #clientCapabilities: Record<string, unknown> = {};
  #finished = false;
  #stopping = false;
  /** The client has closed: the server is stopped once nothing is in flight. */
  #draining = false;
  #drainCheck = false;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#kernel = options.kernel;
    this.#mediator = new McpMediator(options.kernel, options.serverId, options.onDenial);
    this.#timeoutMs = options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    const maxMs = options.maxRequestMs ?? DEFAULT_MAX_REQUEST_MS;
    this.#pending.timing(this.#timeoutMs, maxMs, options.startsServer === true);
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#output = new SessionOutput(options.kernel, this.stats, options.durable === true, (why) =>
      this.#finish(1, why),
    );
    this.#serverSide = new ServerSide(this.#port(), options);
    this.#approvals = new ApprovalFlow({
      stats: this.stats,
      kernel: this.#kernel,
      mediator: this.#mediator,
      output: this.#output,
      timeoutMs: options.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
      canForward: () => !this.#finished && this.#output.serverAlive,
      resume: (request, key) => {
        const downstreamId = this.#pending.nextId();
        const outcome = this.#mediator.clientRequest(request, false, downstreamId);
        this.#act(request, key, outcome, '', downstreamId);
      },
      untrack: (key) => this.#untrack(key),
    });
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The session has ended (sealed, or the seal failed). */
  get finished(): boolean {
    return this.#finished;
  }

  /** Connect the transport's two sides (and how it batches work off its input). */
  attach(client: ClientChannel, server: ServerChannel, batched?: Batched): void {
    this.#output.attach(client, server, batched);
  }
  /** What the server side may see and do of this session. */
  #port(): SessionPort {
    return {
      stats: this.stats,
      mediator: this.#mediator,
      output: this.#output,
      pending: this.#pending,
      timeoutMs: this.#timeoutMs,
      lifecycle: () => this.#state,
      initialized: (ok) => {
        this.#state = ok ? 'initialized' : 'fresh';
      },
      clientCapabilities: () => this.#clientCapabilities,
      finished: () => this.#finished,
      untrack: (key) => this.#untrack(key),
      failPending: (key, code, message) => this.#failPending(key, code, message),
      releaseHeld: () => this.#releaseHeld(),
      timer: this.#timer,
    };
  }

  // ---- events from the transport --------------------------------------------------------

  /** The server is running: messages may be forwarded. */
  serverStarted(): void {
    this.#output.serverAlive = true;
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
    const limit = `${this.maxMessageBytes}-byte limit`;
    this.#output.reply(
      errorLine(id, RPC.tooLarge, `message of ${bytes} bytes exceeds the ${limit}`),
    );
  }

  /** One message from the server (null: its bytes were not valid UTF-8). */
  fromServer(text: string | null): void {
    this.#guard(() => this.#serverSide.line(text), null);
  }

  /** A server message over the size limit: the request it answers fails. */
  serverOversize(id: JsonRpcId | null, bytes: number): void {
    this.#guard(() => this.#serverSide.oversize(id, bytes, this.maxMessageBytes), null);
  }

  /** The transport could not carry a forwarded request or its answer (HTTP): it fails so. */
  requestUndelivered(id: JsonRpcId, code: number, message: string): void {
    this.#guard(() => this.#serverSide.undelivered(id, code, message), null);
  }

  /** The server exited, failed, or broke its pipe. */
  serverGone(reason: string): void {
    if (this.#finished) return;
    this.#output.serverAlive = false;
    this.#serverSide.settle(); // what it answered in full still goes out
    const unanswered = this.#pending.keys(); // leaving these is a failure, client open or not
    for (const key of unanswered) {
      this.#failPending(key, RPC.transportClosed, `the downstream server is gone: ${reason}`);
    }
    if (this.#clientOpen || unanswered.length > 0) this.#finish(1, reason);
    else this.#finish(0, 'the client closed the session');
  }

  /**
   * The client will send no more: let in-flight requests finish (each has its own timeout,
   * so this ends), then end the server's input and stop it.
   */
  clientClosed(): void {
    if (!this.#clientOpen) return;
    this.#clientOpen = false;
    if (!this.#output.serverAlive) {
      this.#finish(0, 'the client closed the session');
      return;
    }
    this.#draining = true;
    this.#checkDrained();
  }

  /** End the session now (the operator's signal): answer what is in flight, seal, stop. */
  stop(reason = 'stopped'): void {
    if (this.#finished) return;
    // Nothing held goes to the server now: held requests are answered, not forwarded.
    this.#stopping = true;
    const stopping = `the AgentK proxy is stopping (${reason})`;
    for (const id of this.#held.drainRequestIds()) {
      this.#output.reply(errorLine(id, RPC.transportClosed, stopping));
    }
    for (const key of [...this.#pending.keys()]) {
      this.#failPending(key, RPC.transportClosed, stopping);
    }
    for (const ask of this.#approvals.holds.values()) {
      this.#output.reply(errorLine(ask.request.id, RPC.transportClosed, stopping));
    }
    this.#finish(0, reason);
  }

  /** The trace lost the events of input just handled, whose lines the transport dropped. */
  traceLost(reason: string): void {
    this.#output.drop(); // with --fsync, what waits for a sync was decided unrecorded too
    this.#finish(1, reason);
  }

  // ---- faults ---------------------------------------------------------------------------

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
      this.#output.reply(
        errorLine(
          id,
          RPC.internalError,
          `AgentK could not mediate this message (${faultName(error)}); refused`,
        ),
      );
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
      this.#output.reply(errorLine(null, RPC.parseError, 'Parse error: not valid UTF-8'));
      return;
    }
    const message = parseMessage(text);
    switch (message.kind) {
      case 'invalid':
        this.#output.reply(errorLine(message.id, message.code, message.reason));
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
      (this.#options.serialize === true && this.#pending.size + this.#approvals.holds.size > 0)
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
      (this.#serverSide.relays(early.id) ||
        (this.#approvals.holds.has(early.id) && this.#pending.size === 0))
    ) {
      this.#clientResponse(early);
      return;
    }
    if (!this.#held.hold(text) && early?.kind === 'request') {
      this.#output.reply(
        errorLine(
          early.id,
          RPC.invalidRequest,
          'too many messages sent before the previous ones were answered',
        ),
      );
    }
  }

  /** Process held messages in order, until one of them has to wait again. */
  #releaseHeld(): void {
    while (this.#held.length > 0 && !this.#mustHold() && !this.#finished && !this.#stopping) {
      const next = this.#held.next();
      // Each held message under its own guard: a fault answers that request, by its id.
      this.#guard(() => this.#clientLine(next), next);
    }
    this.#checkDrained();
  }

  /** The client answers an approval question, or a server request it was relayed. */
  #clientResponse(message: RpcResponse): void {
    if (typeof message.id === 'string' && this.#approvals.holds.has(message.id)) {
      this.#approvals.answered(message.id, message);
      return;
    }
    // The client's answer to a server request: only the JSON-RPC members go on, under
    // the server's own id.
    this.#serverSide.clientAnswered(message);
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
    this.#output.toServer(rebuild({ ...message.message, params: forwarded }, MEMBERS.notification));
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
    this.#settle(key, () => {}); // stop waiting for it
    // A request cancelled while its approval was being asked: ask no more.
    this.#approvals.holds.takeKey(key);
    if (!pending) return;
    this.#output.toServer(cancelledLine(message, pending.downstreamId));
  }

  #clientRequest(request: RpcRequest, text: string): void {
    this.stats.clientRequests += 1;
    const { id, method } = request;
    const key = idKey(id);
    const refusal = admissionRefusal(request, {
      state: this.#state,
      // Requests waiting on a person count as in flight: they hold memory just the same.
      taken: this.#pending.has(key) || this.#approvals.holds.holdsKey(key),
      inFlight: this.#pending.size + this.#approvals.holds.size,
      serverAlive: this.#output.serverAlive,
    });
    if (refusal !== null) {
      this.#output.reply(errorLine(id, refusal.code, refusal.message));
      return;
    }
    if (method === 'initialize') this.#clientCapabilities = capabilitiesOf(request);
    const downstreamId = this.#pending.nextId();
    const canAsk = canElicit(this.#clientCapabilities);
    const outcome = this.#mediator.clientRequest(request, canAsk, downstreamId);
    this.#act(request, key, outcome, text, downstreamId);
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
      this.#output.reply(outcome.line);
      return;
    }
    if (outcome.action === 'ask' && outcome.syscall) {
      this.#approvals.ask(request, key, outcome.syscall, text);
      return;
    }
    this.#pending.forwarded(key, request, downstreamId, this.#timer);
    if (request.method === 'initialize') this.#state = 'initializing';
    if (this.#output.toServer(outcome.line)) this.stats.forwarded += 1;
    else this.#failPending(key, RPC.transportClosed, 'the downstream server is not running');
  }

  // ---- pending requests -----------------------------------------------------------------

  /** A pending request's timeout, `ms` from now. */
  readonly #timer = (key: string, ms: number): NodeJS.Timeout =>
    setTimeout(() => this.#guard(() => this.#timedOut(key), null), ms);

  /** Stop tracking a pending request (a late answer then matches nothing and is dropped). */
  #untrack(key: string): Pending | undefined {
    const pending = this.#pending.untrack(key);
    if (!pending) return undefined;
    this.#checkDrained();
    return pending;
  }

  #timedOut(key: string): void {
    this.#settle(key, (pending) => {
      this.stats.timeouts += 1;
      this.#output.reply(this.#mediator.timeout(pending.request, pending.waitMs));
    });
  }

  #failPending(key: string, code: number, message: string): void {
    this.#settle(key, (pending) =>
      this.#output.reply(errorLine(pending.request.id, code, message)),
    );
  }

  /** A request ends without its answer: say so, then take what waited behind it. */
  #settle(key: string, answer: (pending: Pending) => void): void {
    const pending = this.#untrack(key);
    if (!pending) return;
    answer(pending);
    if (pending.request.method === 'initialize') this.#state = 'fresh';
    this.#releaseHeld();
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
      this.#output.flush(); // with --fsync, what is still queued goes before the input ends
      this.#output.shutdownServer();
    });
  }

  #finish(code: 0 | 1 | 2, reason: string): void {
    if (this.#finished) return;
    this.#output.flush(); // answers already decided still go out, once durable
    this.#finished = true;
    this.#draining = false;
    this.#pending.clear();
    this.#approvals.holds.clear();
    this.#serverSide.clear();
    this.#output.terminateServer();
    let ended = { code: code as 0 | 1 | 2, reason };
    try {
      if (!this.#kernel.closed) this.#kernel.close();
    } catch (error) {
      // The seal, or the pins after it, could not be written: the exit says which.
      const why = error instanceof Error ? error.message : 'error';
      const sealed = this.#kernel.seal
        ? 'the trace is sealed, but'
        : 'the trace could not be sealed:';
      ended = { code: 1, reason: `${reason}; ${sealed} ${why}` };
    } finally {
      this.#output.closeClient();
    }
    this.#resolve({ ...ended, seal: this.#kernel.seal, stats: this.stats });
  }
}
