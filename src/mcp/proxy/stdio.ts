// The stdio transport of the proxy: an MCP client speaks to us on a byte stream (our
// stdin and stdout) as if we were its server; we start the real server as a child and
// speak to it on its stdin and stdout. This module owns only the bytes and the process:
// line framing with size caps in both directions, backpressure (a side that does not read
// slows the other), one write per side per chunk read, released only once the chunk's trace
// events are written (one write too), the child's stderr, its exit, and stopping it
// (SIGTERM, then SIGKILL). Everything else is the session's (session.ts).
// Input distrusted: the client's bytes, the child's bytes, and the child's behaviour.

import { type ChildProcess, spawn } from 'node:child_process';
import { constants, createWriteStream, openSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { AgentkError } from '../../errors.js';
import { type SandboxPlan, sandboxedCommand } from '../../sandbox/argv.js';
import { LineReader } from '../framing.js';
import { ProxySession } from './session.js';
import type {
  ClientChannel,
  ProxyExit,
  ProxyStats,
  ServerChannel,
  SessionOptions,
} from './types.js';

/**
 * How long a server may take to exit once its input ends, before SIGTERM, then SIGKILL.
 * Short enough that a client which gives us two seconds (the MCP SDK does) gets a sealed
 * trace.
 */
const SHUTDOWN_GRACE_MS = 800;
/** After the server exits, how long its stdout may stay open (held by a grandchild). */
const EXIT_GRACE_MS = 500;
/** How much of the end of the server's stderr is kept for the message when it dies. */
const STDERR_TAIL_BYTES = 8 * 1024;
/** Bytes the proxy queues for a server that does not read before dropping its refusals. */
const CHILD_BUFFER_LIMIT = 8 * 1024 * 1024;

export interface ProxyOptions extends SessionOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** The child's whole environment (see childEnvironment). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Where the client's messages come from and where ours go. */
  readonly input: Readable;
  readonly output: Writable;
  /** Child stderr is appended here if given (its last lines are kept in memory either way). */
  readonly stderrFile?: string;
  /** Also given every chunk of the child's stderr (`--verbose` shows it as it comes). */
  readonly onStderr?: (chunk: Buffer) => void;
  /** End `output` when the session ends (false for process.stdout). */
  readonly endOutput?: boolean;
  /** Run the server in this sandbox (bubblewrap, rlimits): see src/sandbox/. */
  readonly sandbox?: SandboxPlan;
}

export class StdioProxy {
  readonly done: Promise<ProxyExit>;
  readonly #options: ProxyOptions;
  readonly #session: ProxySession;
  #child: ChildProcess | null = null;
  /** The end of the child's stderr, for the message that says why it died. */
  readonly #stderrTail = new TailBuffer(STDERR_TAIL_BYTES);
  /** The client's output can still be written. */
  #outputOpen = true;
  /** The chunk being handled: its lines each way and what waits for them (null between). */
  #chunk: Chunk | null = null;
  /** How the server's process ended, once it has. */
  #serverExit: { readonly code: number | null; readonly signal: string | null } | null = null;

  constructor(options: ProxyOptions) {
    this.#options = options;
    this.#session = new ProxySession(options);
    this.done = this.#session.done;
  }

  get stats(): ProxyStats {
    return this.#session.stats;
  }

  /** The last lines the server wrote on stderr (raw: the caller redacts before showing). */
  stderrTail(lines: number): string[] {
    return this.#stderrTail.lines(lines);
  }

  /** How the server's process ended (a sandboxed one: bwrap's status), or null while it runs. */
  get serverExit(): { readonly code: number | null; readonly signal: string | null } | null {
    return this.#serverExit;
  }

  /** Start the child and begin relaying. Resolves once the child is running. */
  start(): Promise<void> {
    const options = this.#options;
    const session = this.#session;
    const launch = options.sandbox
      ? sandboxedCommand(options.sandbox, options.command, options.args)
      : { command: options.command, args: [...options.args] };
    const child = spawn(launch.command, launch.args, {
      env: { ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      windowsHide: true,
    });
    this.#child = child;
    session.attach(this.#clientChannel(), this.#serverChannel(child), (work) =>
      this.#batched(work),
    );
    if (child.stderr) this.#collectStderr(child.stderr);
    this.#relay(child);
    return new Promise((resolve) => {
      let started = false;
      child.once('spawn', () => {
        started = true;
        session.serverStarted();
        resolve();
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (!started) {
          session.serverFailed(startFailure(options.command, error.code ?? error.message));
          resolve();
        } else session.serverGone(`the server failed: ${error.code ?? 'error'}`);
      });
      // 'close', not 'exit': every byte the server wrote before exiting is relayed first.
      child.once('close', (code, signal) => {
        session.serverGone(`the server exited (${signal ?? `code ${code}`})`);
      });
      // But a grandchild can hold the server's stdout open forever: do not wait on it.
      child.once('exit', (code, signal) => {
        this.#serverExit = { code, signal };
        setTimeout(
          () => session.serverGone(`the server exited (${signal ?? `code ${code}`})`),
          EXIT_GRACE_MS,
        ).unref();
      });
    });
  }

  /**
   * End the session now (the operator's signal): answer whatever is in flight, seal the
   * trace, and stop the server (SIGTERM, then SIGKILL).
   */
  stop(reason = 'stopped'): void {
    this.#session.stop(reason);
  }

  /**
   * The child's stderr: its tail kept, appended to the log file when there is one (a
   * failing log never stops the session), and shown as it comes with --verbose. Read
   * without backpressure: a server blocked on a full stderr pipe would hang the session.
   */
  #collectStderr(stderr: Readable): void {
    const { stderrFile, onStderr } = this.#options;
    let file: ReturnType<typeof createWriteStream> | null = null;
    if (stderrFile) {
      try {
        file = createWriteStream('', { fd: openAppendOnly(stderrFile) });
        file.on('error', () => {
          file = null;
        });
      } catch {
        file = null;
      }
    }
    stderr.on('data', (chunk: Buffer) => {
      this.#stderrTail.push(chunk);
      file?.write(chunk);
      onStderr?.(chunk);
    });
    stderr.on('end', () => file?.end());
  }

  /** Lines both ways, framed with the session's size cap, and backpressure between them. */
  #relay(child: ChildProcess): void {
    const { input, output } = this.#options;
    const session = this.#session;
    const limit = session.maxMessageBytes;
    const fromChild = new LineReader(limit, {
      line: (text) => session.fromServer(text),
      oversize: (id, bytes) => session.serverOversize(id, bytes),
    });
    child.stdout?.on('data', (chunk: Buffer) => this.#batched(() => fromChild.push(chunk)));
    child.stdout?.on('end', () => fromChild.end());
    child.stdin?.on('error', () => session.serverGone('the server closed its input (broken pipe)'));
    // Backpressure: a client that does not read slows the server, instead of filling memory.
    output.on('drain', () => {
      child.stdout?.resume();
      if (!session.finished && (child.stdin?.writableLength ?? 0) === 0) input.resume();
    });
    const fromClient = new LineReader(limit, {
      line: (text) => session.fromClient(text),
      oversize: (id, bytes) => session.clientOversize(id, bytes),
    });
    input.on('data', (chunk: Buffer) => this.#batched(() => fromClient.push(chunk)));
    child.stdin?.on('drain', () => {
      if (!session.finished && !output.writableNeedDrain) input.resume();
    });
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

  /**
   * Handle one chunk read from either side. The lines it sends (many, with requests in
   * flight) are held until the trace events the chunk produced are written, in one write
   * (Kernel.batch); then they leave in one write(2) per side, instead of one each. If the
   * events cannot be written, the lines are dropped: nothing goes out without its evidence.
   */
  #batched(handle: () => void): void {
    if (this.#chunk !== null) {
      handle();
      return;
    }
    const chunk: Chunk = { toClient: [], toServer: [], serverBytes: 0, after: [] };
    this.#chunk = chunk;
    let failed = false;
    let failure: unknown;
    try {
      this.#options.kernel.batch(handle);
    } catch (error) {
      failed = true;
      failure = error;
    }
    this.#chunk = null;
    const lost = traceFailure(failure);
    // As when a sync fails (output.ts): the session ends, its trace unsealed.
    if (lost) this.#session.traceLost(`the trace cannot be written: ${lost.message}`);
    else this.#release(chunk);
    for (const action of chunk.after) action();
    // Any other fault of the handler goes on as before, its events written (Kernel.batch).
    if (failed && !lost) throw failure;
  }

  /** A chunk's lines, corked: one write(2) per side. */
  #release(chunk: Chunk): void {
    const output = this.#options.output;
    const stdin = this.#child?.stdin;
    output.cork();
    stdin?.cork();
    for (const line of chunk.toClient) this.#writeClient(line);
    for (const { line, refusal } of chunk.toServer) this.#writeServer(line, refusal);
    output.uncork();
    stdin?.uncork();
  }

  /** Run `action` now, or once the chunk being handled is released (or dropped). */
  #whenReleased(action: () => void): void {
    if (this.#chunk === null) action();
    else this.#chunk.after.push(action);
  }

  #writeClient(line: string): void {
    if (!this.#options.output.write(`${line}\n`)) {
      // The client is not reading: stop reading the server and the client until it does.
      this.#child?.stdout?.pause();
      this.#options.input.pause();
    }
  }

  #writeServer(line: string, refusal: boolean): void {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed) return;
    // The server is not reading: stop reading the client until it drains.
    if (!stdin.write(`${line}\n`) && !refusal) this.#options.input.pause();
  }

  #clientChannel(): ClientChannel {
    const { input, output } = this.#options;
    return {
      send: (line) => {
        if (!this.#outputOpen) return;
        if (this.#chunk) this.#chunk.toClient.push(line);
        else this.#writeClient(line);
      },
      close: () => {
        input.pause();
        const end = this.#outputOpen && this.#options.endOutput !== false;
        this.#outputOpen = false;
        // Inside a chunk, after its lines (which were sent while the output was open).
        if (end) this.#whenReleased(() => output.end());
      },
    };
  }

  #serverChannel(child: ChildProcess): ServerChannel {
    return {
      get writable() {
        return child.stdin !== null && !child.stdin.destroyed;
      },
      send: (line, refusal) => {
        const stdin = child.stdin;
        if (!stdin || stdin.destroyed) return 'closed';
        const chunk = this.#chunk;
        const queued = stdin.writableLength + (chunk?.serverBytes ?? 0);
        if (refusal && queued > CHILD_BUFFER_LIMIT) return 'dropped';
        if (chunk) {
          chunk.toServer.push({ line, refusal });
          chunk.serverBytes += line.length + 1;
        } else this.#writeServer(line, refusal);
        return 'sent';
      },
      shutdown: () => {
        this.#whenReleased(() => child.stdin?.end()); // after the chunk's lines
        const term = setTimeout(() => child.kill('SIGTERM'), SHUTDOWN_GRACE_MS);
        const kill = setTimeout(() => child.kill('SIGKILL'), 2 * SHUTDOWN_GRACE_MS);
        child.once('exit', () => {
          clearTimeout(term);
          clearTimeout(kill);
        });
      },
      terminate: () => {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_GRACE_MS);
        child.once('exit', () => clearTimeout(kill));
      },
    };
  }
}

/** The error, if it says the trace could not take a batch's events (recorder.ts). */
function traceFailure(error: unknown): AgentkError | null {
  return error instanceof AgentkError && error.code === 'TRACE_IO' ? error : null;
}

/** What one chunk of input sends each way, held until its trace events are written. */
interface Chunk {
  readonly toClient: string[];
  readonly toServer: { readonly line: string; readonly refusal: boolean }[];
  /** What toServer holds, counted with what the server has not read yet. */
  serverBytes: number;
  /** What must wait for those lines (ending a stream): run once they are out or dropped. */
  readonly after: (() => void)[];
}

/**
 * The child's environment: empty except PATH and HOME (so that `npx`, `node` and `uvx`
 * resolve and can use their caches) and the names the operator allowed.
 */
export function childEnvironment(
  parent: Readonly<Record<string, string | undefined>>,
  allowed: readonly string[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', ...allowed]) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Why a command could not start, in words (the errno stays, for searching). */
function startFailure(command: string, code: string): string {
  if (code === 'ENOENT') return `cannot start ${command}: command not found (ENOENT)`;
  if (code === 'EACCES') return `cannot start ${command}: permission denied (EACCES)`;
  return `cannot start ${command}: ${code}`;
}

/** The last `limit` bytes written to a stream, read back as lines. */
export class TailBuffer {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#chunks.length > 1 && this.#size - (this.#chunks[0]?.length ?? 0) >= this.#limit) {
      this.#size -= (this.#chunks.shift() as Buffer).length;
    }
  }

  /**
   * The last `count` non-blank lines. A line that started before the kept tail is left
   * out: cut anywhere, it could show the end of a credential the scanner no longer knows.
   */
  lines(count: number): string[] {
    const all = Buffer.concat(this.#chunks);
    const cut = all.length > this.#limit;
    const lines = all
      .subarray(cut ? all.length - this.#limit : 0)
      .toString('utf8')
      .split(/\r?\n/);
    if (cut) lines.shift();
    return lines.filter((line) => line.trim() !== '').slice(-count);
  }
}

/**
 * Open a log for appending, created 0600, never through a symbolic link (O_NOFOLLOW: a
 * link planted at the path could point the server's output at another file).
 */
export function openAppendOnly(path: string): number {
  const { O_APPEND, O_CREAT, O_NOFOLLOW, O_WRONLY } = constants;
  return openSync(path, O_APPEND | O_CREAT | O_NOFOLLOW | O_WRONLY, 0o600);
}
