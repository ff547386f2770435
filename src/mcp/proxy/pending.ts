// Client requests forwarded to the server and not yet answered, by the client's id and by
// the id AgentK gave them downstream: a number used once, so an answer to a request that
// timed out or was cancelled can never pass as the answer to a later request, even one
// that reuses the client's id; it matches nothing and is dropped.

import {
  idKey,
  type JsonRpcId,
  MEMBERS,
  type RpcNotification,
  type RpcRequest,
  rebuild,
} from '../jsonrpc.js';
import { slimRef } from '../mediation/invocations.js';
import { DEFAULT_MAX_REQUEST_MS, DEFAULT_RESPONSE_TIMEOUT_MS } from './types.js';

/** A forwarded client request waiting for the server's answer. */
export interface Pending {
  readonly request: RpcRequest;
  timer: NodeJS.Timeout;
  /** The id the request carries downstream. */
  readonly downstreamId: number;
  /** The client's progress token: progress to it keeps the request alive. */
  readonly progressToken: string | number | undefined;
  /** When the request times out whatever progress it reports (ms since the epoch). */
  readonly deadline: number;
  /** How long it waits for its answer (or its next progress). */
  readonly waitMs: number;
}

/**
 * A server's start is not a slow answer: `npx -y` fetching a server on its first use, or a
 * loaded machine, can take longer than a tool call should. initialize waits at least this
 * long for a server AgentK starts; the client's own timeout (the SDK's is 60 s) is then the
 * one that counts. A remote server is already running: its initialize is a request.
 */
export const INITIALIZE_TIMEOUT_MS = 120_000;

/**
 * What answering a pending request needs (its id, method, the tool, resource or prompt it
 * named, a completion's ref, the page of a listing it asked for, the task it names or
 * that it asked for one), without the rest of its params.
 */
export function slim(request: RpcRequest): RpcRequest {
  const params: Record<string, unknown> = {};
  for (const key of ['name', 'uri', 'protocolVersion', 'cursor', 'taskId']) {
    const value = request.params?.[key];
    if (typeof value === 'string') params[key] = value;
  }
  const ref = slimRef(request.params?.ref);
  if (ref !== undefined) params.ref = ref;
  // A task-augmented tools/call is answered by a task (only that it was asked is kept).
  const task = request.params?.task;
  if (typeof task === 'object' && task !== null) params.task = {};
  return { kind: 'request', id: request.id, method: request.method, params, message: {} };
}

/** The progress token a request carries (`params._meta.progressToken`), if any. */
function progressTokenOf(request: RpcRequest): string | number | undefined {
  const meta = request.params?._meta;
  const token =
    typeof meta === 'object' && meta !== null
      ? (meta as Record<string, unknown>).progressToken
      : undefined;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/**
 * The client's cancellation as the server gets it: under the id the server knows the
 * request by, and only the id (a free-text `reason` would be a channel past the kernel).
 */
export function cancelledLine(message: RpcNotification, downstreamId: number): string {
  return rebuild({ ...message.message, params: { requestId: downstreamId } }, MEMBERS.notification);
}

/** Starts a request's timeout (`ms` from now), by the client's key. */
export type Timer = (key: string, ms: number) => NodeJS.Timeout;

export class PendingRequests {
  /** By the client's id (idKey). */
  readonly #byKey = new Map<string, Pending>();
  /** Client keys by downstream id (idKey). */
  readonly #byDownstream = new Map<string, string>();
  /** Client keys by progress token (idKey). */
  readonly #byProgress = new Map<string, string>();
  #nextId = 1;
  /** How long a request waits for its answer (or progress), and in all (the session's). */
  #waitMs = DEFAULT_RESPONSE_TIMEOUT_MS;
  #maxMs = DEFAULT_MAX_REQUEST_MS;
  /** What initialize waits at least (INITIALIZE_TIMEOUT_MS when AgentK starts the server). */
  #startWaitMs = 0;

  /** The session's timeouts; `startsServer`: its transport starts the server process. */
  timing(waitMs: number, maxMs: number, startsServer: boolean): void {
    this.#waitMs = waitMs;
    this.#maxMs = Math.max(waitMs, maxMs);
    this.#startWaitMs = startsServer ? INITIALIZE_TIMEOUT_MS : 0;
  }

  /** A fresh downstream id. */
  nextId(): number {
    return this.#nextId++;
  }

  get size(): number {
    return this.#byKey.size;
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  get(key: string): Pending | undefined {
    return this.#byKey.get(key);
  }

  keys(): string[] {
    return [...this.#byKey.keys()];
  }

  /** The client key of the request the server knows by `downstreamId`. */
  keyOf(downstreamId: JsonRpcId): string | undefined {
    return this.#byDownstream.get(idKey(downstreamId));
  }

  /**
   * A request forwarded under `downstreamId`: its timeout runs from now, and progress to
   * its token starts it again until its deadline (the session's maximum from now).
   */
  forwarded(key: string, request: RpcRequest, downstreamId: number, timer: Timer): void {
    const token = progressTokenOf(request);
    const startWait = request.method === 'initialize' ? this.#startWaitMs : 0;
    const waitMs = Math.max(this.#waitMs, startWait);
    this.track(key, {
      request: slim(request),
      timer: timer(key, waitMs),
      downstreamId,
      deadline: Date.now() + this.#maxMs,
      waitMs,
      progressToken: token,
    });
  }

  /**
   * The server reported progress to `token`: that request's timeout starts again (a long
   * call that keeps reporting lives on), but never past its deadline.
   */
  progressed(token: unknown, now: number, ms: number, timer: Timer): void {
    const key = this.keyOfProgress(token);
    const pending = key === undefined ? undefined : this.#byKey.get(key);
    if (key === undefined || pending === undefined || pending.deadline <= now) return;
    clearTimeout(pending.timer);
    pending.timer = timer(key, Math.min(ms, pending.deadline - now));
  }

  track(key: string, pending: Pending): void {
    this.#byKey.set(key, pending);
    this.#byDownstream.set(idKey(pending.downstreamId), key);
    const token = pending.progressToken;
    if (token !== undefined && !this.#byProgress.has(idKey(token))) {
      this.#byProgress.set(idKey(token), key);
    }
  }

  /** The client key of the request whose progress token is `token`. */
  keyOfProgress(token: unknown): string | undefined {
    if (typeof token !== 'string' && typeof token !== 'number') return undefined;
    return this.#byProgress.get(idKey(token));
  }

  /** Stop tracking a request (its timer stops; a late answer then matches nothing). */
  untrack(key: string): Pending | undefined {
    const pending = this.#byKey.get(key);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.#byKey.delete(key);
    this.#byDownstream.delete(idKey(pending.downstreamId));
    const token = pending.progressToken;
    if (token !== undefined && this.#byProgress.get(idKey(token)) === key) {
      this.#byProgress.delete(idKey(token));
    }
    return pending;
  }

  clear(): void {
    for (const pending of this.#byKey.values()) clearTimeout(pending.timer);
    this.#byKey.clear();
    this.#byDownstream.clear();
    this.#byProgress.clear();
  }
}
