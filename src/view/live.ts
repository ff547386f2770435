// Live mode's event streams: while a page listens, the log is looked at a few times a
// second, and each time it changed the model is built again and sent to every listener
// as one server-sent event (`event: model`, the model as one line of JSON). A log caught
// mid-write (its last line cut) is looked at again before it is sent: a proxy finishes
// the line a moment later, and only a tail that stays cut is shown as one.

import { statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

export interface LiveSource {
  /** The log whose changes are sent. */
  readonly path: string;
  /** The model as JSON text, built anew; `torn`: the last line was cut (mid-write?). */
  model(): { readonly json: string; readonly torn: boolean };
}

/** How often the log is looked at while a page listens. */
export const LIVE_POLL_MS = 250;
/** A cut last line is sent only after it stayed cut this many looks. */
const TORN_LOOKS = 4;
/** A comment line now and then, so idle connections are not dropped along the way. */
const KEEPALIVE_MS = 15_000;

export class LiveStreams {
  readonly #source: LiveSource;
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | null = null;
  #keepalive: NodeJS.Timeout | null = null;
  /** The log's size and time when last sent, and how many looks saw it cut since. */
  #sent = '';
  #torn = 0;

  constructor(source: LiveSource) {
    this.#source = source;
  }

  /** A new listener: it gets the model now (the page may be older), then each change. */
  add(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    response.write(': agentk view, live\n\n');
    this.#clients.add(response);
    response.on('close', () => {
      this.#clients.delete(response);
      if (this.#clients.size === 0) this.#stop();
    });
    this.#sent = '';
    this.#start();
    this.#look();
  }

  #start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.#look(), LIVE_POLL_MS);
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

  /** Send the model if the log changed since it was last sent (and is not cut mid-line). */
  #look(): void {
    let key: string;
    try {
      const stats = statSync(this.#source.path);
      key = `${stats.size}:${stats.mtimeMs}`;
    } catch {
      return;
    }
    if (key === this.#sent) return;
    let built: { json: string; torn: boolean };
    try {
      built = this.#source.model();
    } catch {
      return;
    }
    if (built.torn && this.#torn < TORN_LOOKS) {
      this.#torn += 1;
      return;
    }
    this.#torn = 0;
    this.#sent = key;
    const frame = `event: model\ndata: ${built.json}\n\n`;
    for (const client of this.#clients) client.write(frame);
  }

  close(): void {
    this.#stop();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }
}
