// Where a session's messages go: the client channel and the server channel a transport
// provides, with group commit in between when the trace must be durable (--fsync): then a
// message waits until the trace events before it are fsynced, one fsync per turn of the
// event loop for every event of that turn. Nothing whose evidence may be lost goes out.

import type { Kernel } from '../../kernel/kernel.js';
import type { Batched, ClientChannel, ProxyStats, ServerChannel } from './types.js';

interface Queued {
  readonly toServer: boolean;
  readonly line: string;
  readonly refusal: boolean;
}

export class SessionOutput {
  readonly #kernel: Kernel;
  readonly #stats: ProxyStats;
  readonly #durable: boolean;
  /** Called when the trace cannot be made durable: the session must end. */
  readonly #lost: (reason: string) => void;
  #client: ClientChannel | null = null;
  #server: ServerChannel | null = null;
  #batched: Batched = (work) => work();
  /** The server is running (set by the transport's events through the session). */
  serverAlive = false;
  #outbox: Queued[] = [];
  #commitScheduled = false;

  constructor(kernel: Kernel, stats: ProxyStats, durable: boolean, lost: (reason: string) => void) {
    this.#kernel = kernel;
    this.#stats = stats;
    this.#durable = durable;
    this.#lost = lost;
  }

  attach(client: ClientChannel, server: ServerChannel, batched?: Batched): void {
    this.#client = client;
    this.#server = server;
    if (batched) this.#batched = batched;
  }

  /**
   * Run work that does not come from a chunk of input (a later slice of a listing, what
   * waited for a sync) as the transport runs a chunk: its events in one write, and what it
   * sends in one write per side, after them.
   */
  batched(work: () => void): void {
    this.#batched(work);
  }

  /** An answer the proxy gives itself (counted as such). */
  reply(line: string): void {
    this.#stats.answeredByProxy += 1;
    this.toClient(line);
  }

  toClient(line: string): void {
    if (this.#durable) this.#queue({ toServer: false, line, refusal: false });
    else this.#client?.send(line);
  }

  /**
   * Write to the server. A client's message always goes (the transport slows the client
   * when the server does not read); the proxy's own refusals of server requests are
   * dropped once the server stops reading, so a server that floods and never reads cannot
   * fill memory. False when the server cannot be written to.
   */
  toServer(line: string, refusal = false): boolean {
    if (!this.serverAlive || !this.#server?.writable) return false;
    if (this.#durable) {
      this.#queue({ toServer: true, line, refusal });
      return true;
    }
    return this.#writeServer(line, refusal);
  }

  #writeServer(line: string, refusal: boolean): boolean {
    if (!this.serverAlive || !this.#server) return false;
    const sent = this.#server.send(line, refusal);
    if (sent === 'dropped') this.#stats.refusalsDropped += 1;
    return sent === 'sent';
  }

  #queue(item: Queued): void {
    this.#outbox.push(item);
    if (this.#commitScheduled) return;
    this.#commitScheduled = true;
    setImmediate(() => {
      try {
        this.#batched(() => this.commit());
      } catch {
        this.#stats.faults += 1;
      }
    });
  }

  /** Make the trace durable, then let out what waited for it (fail closed if it cannot). */
  commit(): void {
    this.#commitScheduled = false;
    if (this.#outbox.length === 0) return;
    try {
      if (!this.#kernel.closed) this.#kernel.sync();
    } catch (error) {
      this.#outbox = [];
      this.#lost(`the trace cannot be made durable: ${(error as Error).message}`);
      return;
    }
    const items = this.#outbox;
    this.#outbox = [];
    for (const item of items) {
      if (item.toServer) this.#writeServer(item.line, item.refusal);
      else this.#client?.send(item.line);
    }
  }

  /** Drop what is queued: its evidence is lost (the session is ending). */
  drop(): void {
    this.#outbox = [];
  }

  /** Let out what is queued, or drop it if that fails: the session is ending. */
  flush(): void {
    try {
      this.commit();
    } catch {
      this.#outbox = [];
    }
  }

  /** The client is gone and nothing is in flight: end the server's input, then stop it. */
  shutdownServer(): void {
    this.#server?.shutdown();
  }

  /** Stop the server now, if it runs. */
  terminateServer(): void {
    if (this.serverAlive) this.#server?.terminate();
  }

  closeClient(): void {
    this.#client?.close();
  }
}
