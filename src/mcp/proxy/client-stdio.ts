// The client's side of a proxy whose client speaks to it on a byte stream (our stdin and
// stdout), whatever carries the server: line framing with the session's size cap,
// backpressure (a client that does not read slows the server), and the chunk: what one
// chunk of input sends each way is held until the trace events it produced are written,
// in one write, then leaves in one write per side. StdioProxy (a child process, stdio.ts)
// and RemoteProxy (Streamable HTTP, remote.ts) each carry the server's side.
// Input distrusted: the client's bytes.

import type { Readable, Writable } from 'node:stream';
import { AgentkError } from '../../errors.js';
import { LineReader } from '../framing.js';
import { ProxySession } from './session.js';
import type { ClientChannel, ProxyExit, ProxyStats, SessionOptions } from './types.js';

export interface ClientStdioOptions extends SessionOptions {
  /** Where the client's messages come from and where ours go. */
  readonly input: Readable;
  readonly output: Writable;
  /** End `output` when the session ends (false for process.stdout). */
  readonly endOutput?: boolean;
}

/** A proxy with a stdio client; subclasses carry the server's side. */
export abstract class StdioClientProxy<Options extends ClientStdioOptions> {
  readonly done: Promise<ProxyExit>;
  protected readonly options: Options;
  protected readonly session: ProxySession;
  /** The client's output can still be written. */
  #outputOpen = true;
  /** The chunk being handled: its lines each way and what waits for them (null between). */
  #chunk: Chunk | null = null;

  constructor(options: Options) {
    this.options = options;
    this.session = new ProxySession(options);
    this.done = this.session.done;
  }

  get stats(): ProxyStats {
    return this.session.stats;
  }

  /**
   * End the session now (the operator's signal): answer whatever is in flight, seal the
   * trace, and stop the server.
   */
  stop(reason = 'stopped'): void {
    this.session.stop(reason);
  }

  /** Write one line to the server now. */
  protected abstract writeServer(line: string, refusal: boolean): void;
  /** Write a released chunk's lines to the server (refusalsOnly: every one is a refusal). */
  protected abstract releaseServer(lines: readonly string[], refusalsOnly: boolean): void;
  /** Stop reading the server: the client is not reading what it already got. */
  protected abstract pauseServer(): void;
  protected abstract resumeServer(): void;
  /** Bytes written to the server that it has not taken yet. */
  protected abstract serverBacklog(): number;

  /** The client's lines, framed with the session's size cap, and its backpressure. */
  protected relayClient(): void {
    const { input, output } = this.options;
    const session = this.session;
    // Backpressure: a client that does not read slows the server, instead of filling memory.
    output.on('drain', () => {
      this.resumeServer();
      if (!session.finished && this.serverBacklog() === 0) input.resume();
    });
    const fromClient = new LineReader(session.maxMessageBytes, {
      line: (text) => session.fromClient(text),
      oversize: (id, bytes) => session.clientOversize(id, bytes),
    });
    input.on('data', (chunk: Buffer) => this.batched(() => fromClient.push(chunk)));
    input.on('end', () => {
      fromClient.end();
      session.clientClosed();
    });
    input.on('error', () => session.clientClosed());
    output.on('error', () => {
      this.#outputOpen = false;
      session.clientClosed();
    });
  }

  /** The server took what it was sent: read the client again, unless it does not read. */
  protected serverDrained(): void {
    if (!this.session.finished && !this.options.output.writableNeedDrain) {
      this.options.input.resume();
    }
  }

  /**
   * Handle one chunk read from either side. The lines it sends (many, with requests in
   * flight) are held until the trace events the chunk produced are written, in one write
   * (Kernel.batch); then they leave in one write(2) per side, instead of one each. If the
   * events cannot be written, the lines are dropped: nothing goes out without its evidence.
   */
  protected batched(handle: () => void): void {
    if (this.#chunk !== null) {
      handle();
      return;
    }
    const chunk: Chunk = {
      toClient: [],
      toServer: [],
      serverRefusalsOnly: true,
      serverBytes: 0,
      after: [],
    };
    this.#chunk = chunk;
    let failed = false;
    let failure: unknown;
    try {
      this.options.kernel.batch(handle);
    } catch (error) {
      failed = true;
      failure = error;
    }
    this.#chunk = null;
    const lost = traceFailure(failure);
    // As when a sync fails (output.ts): the session ends, its trace unsealed.
    if (lost) this.session.traceLost(`the trace cannot be written: ${lost.message}`);
    else this.#release(chunk);
    for (const action of chunk.after) action();
    // The answers are on their way: what they showed is indexed while the client reads them
    // (the next syscall would do it first otherwise; a failure here fails that syscall).
    if (!lost) this.#settle();
    // Any other fault of the handler goes on as before, its events written (Kernel.batch).
    if (failed && !lost) throw failure;
  }

  #settle(): void {
    try {
      this.options.kernel.settle();
    } catch {
      // Left for the next syscall, which then fails closed.
    }
  }

  /**
   * A chunk's lines, joined: one write per side (a stream write per line costs more than
   * the line).
   */
  #release(chunk: Chunk): void {
    if (chunk.toClient.length > 0) this.#writeClient(joinLines(chunk.toClient));
    if (chunk.toServer.length > 0) this.releaseServer(chunk.toServer, chunk.serverRefusalsOnly);
  }

  /** Run `action` now, or once the chunk being handled is released (or dropped). */
  protected whenReleased(action: () => void): void {
    if (this.#chunk === null) action();
    else this.#chunk.after.push(action);
  }

  /** Bytes queued for the server: those it has not taken, and those the chunk holds. */
  protected queuedForServer(): number {
    return this.serverBacklog() + (this.#chunk?.serverBytes ?? 0);
  }

  /** A line for the server: held with the chunk being handled, or written now. */
  protected toServer(line: string, refusal: boolean): void {
    const chunk = this.#chunk;
    if (chunk) {
      chunk.toServer.push(line);
      if (!refusal) chunk.serverRefusalsOnly = false;
      chunk.serverBytes += line.length + 1;
    } else this.writeServer(line, refusal);
  }

  #writeClient(line: string): void {
    if (!this.options.output.write(`${line}\n`)) {
      // The client is not reading: stop reading the server and the client until it does.
      this.pauseServer();
      this.options.input.pause();
    }
  }

  protected clientChannel(): ClientChannel {
    const { input, output } = this.options;
    return {
      send: (line) => {
        if (!this.#outputOpen) return;
        if (this.#chunk) this.#chunk.toClient.push(line);
        else this.#writeClient(line);
      },
      close: () => {
        input.pause();
        const end = this.#outputOpen && this.options.endOutput !== false;
        this.#outputOpen = false;
        // Inside a chunk, after its lines (which were sent while the output was open).
        if (end) this.whenReleased(() => output.end());
      },
    };
  }
}

/** Lines as one write, newline-separated (the writer adds the last newline). */
export function joinLines(lines: readonly string[]): string {
  return lines.length === 1 ? (lines[0] as string) : lines.join('\n');
}

/** The error, if it says the trace could not take a batch's events (recorder.ts). */
function traceFailure(error: unknown): AgentkError | null {
  return error instanceof AgentkError && error.code === 'TRACE_IO' ? error : null;
}

/** What one chunk of input sends each way, held until its trace events are written. */
interface Chunk {
  readonly toClient: string[];
  readonly toServer: string[];
  /** Every line of toServer is a refusal: a server that does not read them slows no one. */
  serverRefusalsOnly: boolean;
  /** What toServer holds, counted with what the server has not read yet. */
  serverBytes: number;
  /** What must wait for those lines (ending a stream): run once they are out or dropped. */
  readonly after: (() => void)[];
}
