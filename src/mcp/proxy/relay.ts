// Server requests relayed to the client (sampling, elicitation, roots, ping), by the id
// AgentK gave them: random, so that neither peer can guess or collide with it, and the
// client never sees the server's own ids. An answer or a cancellation is matched here.

import type { JsonRpcId } from '../jsonrpc.js';

/** A server request relayed to the client, waiting for its answer. */
export interface Relayed {
  /** The server's own id, which the answer goes back under. */
  readonly serverId: JsonRpcId;
  readonly serverKey: string;
  readonly method: string;
  readonly timer: NodeJS.Timeout;
}

export class ServerRequestRelay {
  readonly #byRelayId = new Map<string, Relayed>();
  /** The server's ids (idKey) of the requests relayed, to the ids AgentK gave them. */
  readonly #byServerKey = new Map<string, string>();

  get size(): number {
    return this.#byRelayId.size;
  }

  has(relayId: string): boolean {
    return this.#byRelayId.has(relayId);
  }

  /** Whether the server already has a request in flight under this id. */
  inFlight(serverKey: string): boolean {
    return this.#byServerKey.has(serverKey);
  }

  track(relayId: string, relayed: Relayed): void {
    this.#byRelayId.set(relayId, relayed);
    this.#byServerKey.set(relayed.serverKey, relayId);
  }

  /** The client answered (or the relay gave up): what was relayed, no longer waiting. */
  take(relayId: string): Relayed | undefined {
    const relayed = this.#byRelayId.get(relayId);
    if (!relayed) return undefined;
    clearTimeout(relayed.timer);
    this.#byRelayId.delete(relayId);
    this.#byServerKey.delete(relayed.serverKey);
    return relayed;
  }

  /** The relay id of a request the server knows by `serverKey`. */
  relayIdOf(serverKey: string): string | undefined {
    return this.#byServerKey.get(serverKey);
  }

  clear(): void {
    for (const relayed of this.#byRelayId.values()) clearTimeout(relayed.timer);
    this.#byRelayId.clear();
    this.#byServerKey.clear();
  }
}
