// What a session holds back, bounded: client messages pipelined behind an initialize (or,
// in serial mode, behind the request in flight), and the budget of server notifications
// (a token bucket, so a flood costs constant memory).

import { type JsonRpcId, parseMessage } from '../jsonrpc.js';

const MAX_HELD = 1024;
/** Characters of held client messages at most (a pipelined session may not buffer more). */
const MAX_HELD_BYTES = 64 * 1024 * 1024;

/** Client messages waiting their turn, in order (null: a message that was not UTF-8). */
export class HeldMessages {
  #held: (string | null)[] = [];
  #bytes = 0;

  get length(): number {
    return this.#held.length;
  }

  /** Hold one more message, unless that would pass the bounds (then false). */
  hold(text: string | null): boolean {
    const size = text?.length ?? 0;
    if (this.#held.length >= MAX_HELD || this.#bytes + size > MAX_HELD_BYTES) return false;
    this.#held.push(text);
    this.#bytes += size;
    return true;
  }

  next(): string | null {
    const text = this.#held.shift() as string | null;
    this.#bytes -= text?.length ?? 0;
    return text;
  }

  /** Hold nothing more: the ids of the held requests, each still to be answered. */
  drainRequestIds(): JsonRpcId[] {
    this.#bytes = 0;
    return this.#held.splice(0).flatMap((text) => {
      const held = text === null ? null : parseMessage(text);
      return held?.kind === 'request' ? [held.id] : [];
    });
  }
}

/** Token bucket: a burst, then a sustained rate per second. */
export class TokenBucket {
  readonly #burst: number;
  readonly #rate: number;
  #tokens: number;
  #at = Date.now();

  constructor(burst: number, perSecond: number) {
    this.#burst = burst;
    this.#rate = perSecond;
    this.#tokens = burst;
  }

  take(): boolean {
    const now = Date.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
