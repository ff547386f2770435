// Client requests forwarded to the server and not yet answered, by the client's id and by
// the id AgentK gave them downstream: a number used once, so an answer to a request that
// timed out or was cancelled can never pass as the answer to a later request, even one
// that reuses the client's id; it matches nothing and is dropped.

import { idKey, type JsonRpcId, type RpcRequest } from '../jsonrpc.js';

/** A forwarded client request waiting for the server's answer. */
export interface Pending {
  readonly request: RpcRequest;
  timer: NodeJS.Timeout;
  /** The id the request carries downstream. */
  readonly downstreamId: number;
  /** The client's progress token: progress to it keeps the request alive. */
  readonly progressToken?: string | number;
  /** When the request times out whatever progress it reports (ms since the epoch). */
  readonly deadline: number;
}

/**
 * What answering a pending request needs (its id, method, the tool, resource or prompt it
 * named, and the page of a listing it asked for), without the rest of its params.
 */
export function slim(request: RpcRequest): RpcRequest {
  const params: Record<string, unknown> = {};
  for (const key of ['name', 'uri', 'protocolVersion', 'cursor']) {
    const value = request.params?.[key];
    if (typeof value === 'string') params[key] = value;
  }
  return { kind: 'request', id: request.id, method: request.method, params, message: {} };
}

export class PendingRequests {
  /** By the client's id (idKey). */
  readonly #byKey = new Map<string, Pending>();
  /** Client keys by downstream id (idKey). */
  readonly #byDownstream = new Map<string, string>();
  /** Client keys by progress token (idKey). */
  readonly #byProgress = new Map<string, string>();
  #nextId = 1;

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
