// Live mode's event streams: while a page listens, the log is looked at a few times a
// second, and what changed is sent to every listener as one server-sent event: `rows`
// (the events appended, verified by continuing the chain: live-model.ts), or `model` (the
// whole model again, when the file was rewritten or cut). A new listener first gets what
// it lacks: the rows after those its page holds, or the whole model if its page is of an
// earlier build.

import type { ServerResponse } from 'node:http';
import type { LiveMessage } from './live-model.js';

export interface LiveSource {
  /** What a page holding `count` rows of build `generation` needs to be up to date. */
  resume(generation: number, count: number): LiveMessage;
  /** What changed since the last look, or null. */
  changes(): LiveMessage | null;
}

/** How often the log is looked at while a page listens. */
export const LIVE_POLL_MS = 250;
/** A comment line now and then, so idle connections are not dropped along the way. */
const KEEPALIVE_MS = 15_000;

const frame = (message: LiveMessage) => `event: ${message.event}\ndata: ${message.json}\n\n`;

export class LiveStreams {
  readonly #source: LiveSource;
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | null = null;
  #keepalive: NodeJS.Timeout | null = null;

  constructor(source: LiveSource) {
    this.#source = source;
  }

  /** A new listener, whose page holds `count` rows of build `generation`. */
  add(response: ServerResponse, generation: number, count: number): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    response.write(': agentk view, live\n\n');
    // Up to date as of the last look; the look below sends what changed since.
    let first: LiveMessage;
    try {
      first = this.#source.resume(generation, count);
    } catch {
      response.end();
      return;
    }
    response.write(frame(first));
    this.#clients.add(response);
    response.on('close', () => {
      this.#clients.delete(response);
      if (this.#clients.size === 0) this.#stop();
    });
    this.#start();
    this.look();
  }

  #start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.look(), LIVE_POLL_MS);
    this.#keepalive = setInterval(() => {
      for (const client of this.#clients) client.write(': still here\n\n');
    }, KEEPALIVE_MS);
  }

  #stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#keepalive !== null) clearInterval(this.#keepalive);
    this.#timer = null;
    this.#keepalive = null;
  }

  /** Send what changed in the log since the last look, if anything. */
  look(): void {
    let message: LiveMessage | null;
    try {
      message = this.#source.changes();
    } catch {
      return;
    }
    if (message === null) return;
    const text = frame(message);
    for (const client of this.#clients) client.write(text);
  }

  close(): void {
    this.#stop();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }
}
