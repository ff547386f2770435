// Everything a session receives from the server: answers to forwarded requests (matched by
// downstream id, mediated, sent under the client's id), requests to the client (mediated,
// relayed under a random id, answered or timed out), and notifications (mediated, rate
// limited). The lifecycle binds the server too: nothing but ping before the client is
// ready, no notification before initialize is answered.
// Input distrusted: every message from the server.

import { randomHex } from '../../crypto/index.js';
import { topLevelId } from '../framing.js';
import {
  errorLine,
  INEXACT_NUMBER,
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
import { isListing, type ListingJob } from '../mediation/listings.js';
import type { McpMediator } from '../mediation/mediator.js';
import { SERVER_METHODS, SERVER_NOTIFICATIONS } from '../mediation/methods.js';
import { TokenBucket } from './holds.js';
import type { SessionOutput } from './output.js';
import type { Pending, PendingRequests, Timer } from './pending.js';
import { ServerRequestRelay } from './relay.js';
import {
  faultName,
  type Lifecycle,
  MAX_IN_FLIGHT,
  type ProxyStats,
  type SessionOptions,
} from './types.js';

/** What the server side may see and do of the session it belongs to. */
export interface SessionPort {
  readonly stats: ProxyStats;
  readonly mediator: McpMediator;
  readonly output: SessionOutput;
  readonly pending: PendingRequests;
  readonly timeoutMs: number;
  lifecycle(): Lifecycle;
  /** An initialize was answered: the session is initialized, or fresh again. */
  initialized(ok: boolean): void;
  clientCapabilities(): Record<string, unknown>;
  finished(): boolean;
  /** Stop tracking a forwarded request (by the client's key). */
  untrack(key: string): Pending | undefined;
  /** Answer a forwarded request with an error and stop tracking it. */
  failPending(key: string, code: number, message: string): void;
  /** Let held client messages go on, as far as they may. */
  releaseHeld(): void;
  /** Starts a pending request's timeout (again, on progress). */
  readonly timer: Timer;
}

/**
 * Entries of a listing described per turn of the event loop: a longer listing is described
 * a slice at a time, so that timers, signals and other messages are not held up by it.
 */
const LISTING_SLICE = 256;

export class ServerSide {
  readonly #session: SessionPort;
  readonly #relay = new ServerRequestRelay();
  readonly #notifications: TokenBucket;
  /** The long listing being described, by the client's key of its request. */
  #listing: { readonly key: string; readonly pending: Pending; readonly job: ListingJob } | null =
    null;
  /** Answers to other listings waiting for it, one per request (the catalogue takes one at a time). */
  #queued = new Map<string, RpcResponse>();

  constructor(session: SessionPort, options: SessionOptions) {
    this.#session = session;
    this.#notifications = new TokenBucket(
      options.notificationBurst ?? 200,
      options.notificationsPerSecond ?? 100,
    );
  }

  /** Whether `id` is a server request relayed to the client and not yet answered. */
  relays(id: string): boolean {
    return this.#relay.has(id);
  }

  /**
   * The client answered a relayed server request: only the JSON-RPC members go on, under
   * the server's own id. False when the answer matches no relayed request.
   */
  clientAnswered(message: RpcResponse): boolean {
    const relayed = typeof message.id === 'string' ? this.#relay.take(message.id) : undefined;
    if (!relayed) return false;
    if (relayed.method === 'roots/list') this.#session.mediator.clientRoots(message.result);
    this.#session.output.toServer(
      rebuild({ ...message.message, id: relayed.serverId }, MEMBERS.response),
    );
    return true;
  }

  clear(): void {
    this.#relay.clear();
    this.#listing = null;
    this.#queued.clear();
  }

  /**
   * The server is gone: what it answered in full is still described and delivered, at
   * once (a long listing under way, and the listing answers waiting for it).
   */
  settle(): void {
    while (this.#listing && !this.#session.finished()) {
      const { job } = this.#listing;
      this.#slice(job, Number.POSITIVE_INFINITY);
    }
  }

  /** A message over the size limit: the request it answers fails. */
  oversize(id: JsonRpcId | null, bytes: number, limit: number): void {
    this.#session.stats.malformedFromServer += 1;
    this.undelivered(
      id,
      RPC.tooLarge,
      `downstream response of ${bytes} bytes exceeds the ${limit}-byte limit (withheld by AgentK)`,
    );
  }

  /** A forwarded request (by its downstream id) ends without an answer, in these words. */
  undelivered(id: JsonRpcId | null, code: number, message: string): void {
    const key = id === null ? undefined : this.#session.pending.keyOf(id);
    if (key !== undefined) this.#session.failPending(key, code, message);
  }

  /** One message from the server (null: its bytes were not valid UTF-8). */
  line(text: string | null): void {
    const { stats } = this.#session;
    if (this.#session.finished()) return;
    if (text === null) {
      stats.malformedFromServer += 1;
      return;
    }
    const message = parseMessage(text);
    switch (message.kind) {
      case 'invalid': {
        stats.malformedFromServer += 1;
        if (message.call) {
          // A server request AgentK will not carry is still owed an answer, in its words.
          if (message.id !== null) {
            this.#session.output.toServer(
              errorLine(message.id, message.code, message.reason),
              true,
            );
          }
          return;
        }
        const id = message.id ?? topLevelId(text);
        const key = id === null ? undefined : this.#session.pending.keyOf(id);
        if (key !== undefined) {
          // Only AgentK's own words of why: the server's are withheld.
          const why = message.reason === INEXACT_NUMBER ? `: ${INEXACT_NUMBER}` : '';
          this.#session.failPending(
            key,
            RPC.badResponse,
            `downstream server sent a malformed response (withheld by AgentK)${why}`,
          );
        }
        return;
      }
      case 'response':
        this.#response(message);
        return;
      case 'request':
        this.#request(message);
        return;
      case 'notification':
        this.#notification(message, text);
        return;
    }
  }

  #response(message: RpcResponse): void {
    const session = this.#session;
    const key = session.pending.keyOf(message.id);
    const tracked = key === undefined ? undefined : session.pending.get(key);
    if (key !== undefined && tracked && this.#listing) {
      if (tracked === this.#listing.pending || this.#queued.has(key)) {
        session.stats.unmatchedFromServer += 1; // answered already, still waiting
        return;
      }
      if (isListing(tracked.request.method)) {
        this.#queued.set(key, message);
        return;
      }
    }
    if (key !== undefined && tracked && this.#longListing(key, tracked, message)) return;
    const pending = key === undefined ? undefined : session.untrack(key);
    if (!pending) {
      // A late answer to a request that timed out or was cancelled, or no request at all.
      session.stats.unmatchedFromServer += 1;
      return;
    }
    let line: string;
    try {
      line = session.mediator.serverResponse(pending.request, message);
    } catch (error) {
      line = this.#fault(pending, error);
    }
    session.output.toClient(line);
    if (pending.request.method === 'initialize') {
      session.initialized((JSON.parse(line) as { error?: unknown }).error === undefined);
    }
    session.releaseHeld();
  }

  /** A long listing starts being described, a slice at a time (false: not a long one). */
  #longListing(key: string, pending: Pending, message: RpcResponse): boolean {
    let job: ListingJob | null;
    try {
      job = this.#session.mediator.longListing(pending.request, message, LISTING_SLICE);
    } catch (error) {
      this.#deliver(key, this.#fault(pending, error));
      return true;
    }
    if (job === null) return false;
    this.#listing = { key, pending, job };
    this.#slice(job, LISTING_SLICE);
    return true;
  }

  /** Describe one slice of the long listing; once done, its answer goes to the client. */
  #slice(job: ListingJob, size: number): void {
    const session = this.#session;
    const listing = this.#listing;
    if (!listing || listing.job !== job) return;
    // Stopped, timed out or cancelled meanwhile: its request was answered, or not wanted.
    if (session.finished() || session.pending.get(listing.key) !== listing.pending) {
      this.#listingDone();
      return;
    }
    let line: string | null = null;
    try {
      if (job.step(size)) line = job.finish();
    } catch (error) {
      line = this.#fault(listing.pending, error);
    }
    // The next slice's descriptors: one write for their events, as for a chunk of input.
    if (line === null) {
      setImmediate(() => session.output.batched(() => this.#slice(job, LISTING_SLICE)));
    } else this.#deliver(listing.key, line);
  }

  /** A long listing's answer goes to the client, and what waited for it goes on. */
  #deliver(key: string, line: string): void {
    const session = this.#session;
    session.untrack(key);
    session.output.toClient(line);
    this.#listingDone();
    session.releaseHeld();
  }

  /** The long listing is done with: the listing answers that waited for it, in order. */
  #listingDone(): void {
    this.#listing = null;
    for (const [key, message] of this.#queued) {
      if (this.#listing !== null || this.#session.finished()) break;
      this.#queued.delete(key);
      this.#response(message);
    }
  }

  /** Mediation failed: the answer is withheld, but the request is still answered. */
  #fault(pending: Pending, error: unknown): string {
    this.#session.stats.faults += 1;
    return errorLine(
      pending.request.id,
      RPC.internalError,
      `AgentK could not mediate the downstream answer (${faultName(error)}); withheld`,
    );
  }

  #request(message: RpcRequest): void {
    const session = this.#session;
    const state = session.lifecycle();
    // Only ping once initialized, the rest once the client has said it is ready.
    const open = state === 'ready' || (state === 'initialized' && message.method === 'ping');
    const refuse = (code: number, why: string) =>
      session.output.toServer(errorLine(message.id, code, why), true);
    if (!SERVER_METHODS.has(message.method) || !open) {
      refuse(RPC.methodNotFound, 'not available through the AgentK proxy now');
      return;
    }
    const serverKey = idKey(message.id);
    if (this.#relay.inFlight(serverKey)) {
      refuse(RPC.invalidRequest, 'Invalid Request: this id is already in flight');
      return;
    }
    if (this.#relay.size >= MAX_IN_FLIGHT) {
      refuse(RPC.invalidRequest, 'too many requests in flight');
      return;
    }
    const relayId = `agentk-srv-${randomHex(12)}`;
    const outcome = session.mediator.serverRequest(message, session.clientCapabilities(), relayId);
    if (outcome.action === 'reply') {
      session.output.toServer(outcome.line, true);
      return;
    }
    // Keep only what is needed to answer; a client that never answers times it out.
    const timer = setTimeout(() => {
      if (!this.#relay.take(relayId)) return;
      refuse(
        RPC.timeout,
        `the client did not answer ${message.method} within ${session.timeoutMs} ms`,
      );
    }, session.timeoutMs);
    this.#relay.track(relayId, { serverId: message.id, serverKey, method: message.method, timer });
    session.output.toClient(outcome.line);
  }

  #notification(message: RpcNotification, text: string): void {
    const session = this.#session;
    const state = session.lifecycle();
    if (
      !SERVER_NOTIFICATIONS.has(message.method) ||
      state === 'fresh' ||
      state === 'initializing' ||
      !this.#notifications.take()
    ) {
      session.stats.notificationsDropped += 1;
      return;
    }
    if (message.method === 'notifications/cancelled') {
      this.#cancelled(message);
      return;
    }
    if (message.method === 'notifications/progress') {
      const params = message.message.params;
      if (typeof params === 'object' && params !== null) {
        const token = (params as Record<string, unknown>).progressToken;
        session.pending.progressed(token, Date.now(), session.timeoutMs, session.timer);
      }
    }
    this.#relayNotification(message.message, text);
  }

  /** A notification goes to the client as mediated, or is dropped (and counted). */
  #relayNotification(message: Record<string, unknown>, text: string): void {
    const session = this.#session;
    const line = session.mediator.serverNotification(message, text);
    if (line === null) {
      session.stats.notificationsDropped += 1;
      return;
    }
    session.stats.notificationsForwarded += 1;
    session.output.toClient(line);
  }

  /**
   * The server gave up on a request it sent the client: the client knows that request by
   * the id AgentK gave it, and nothing else the server names is the client's concern.
   */
  #cancelled(message: RpcNotification): void {
    const session = this.#session;
    const requestId = message.params?.requestId;
    const serverKey = isValidId(requestId) ? idKey(requestId) : '';
    const relayId = this.#relay.relayIdOf(serverKey);
    if (relayId === undefined || !this.#relay.take(relayId)) {
      session.stats.notificationsDropped += 1;
      return;
    }
    const translated = { ...message.message, params: { ...message.params, requestId: relayId } };
    // No bytes were received in this form: serialised once, from what is mediated.
    this.#relayNotification(translated, '');
  }
}
