// The stdio transport of the proxy: an MCP client speaks to us on a byte stream (our
// stdin and stdout) as if we were its server; we start the real server as a child and
// speak to it on its stdin and stdout. The client's side (framing, backpressure, the
// chunk held until its trace events are written) is client-stdio.ts's; this module owns
// the child's: its lines framed with the size cap, one write per chunk, its stderr, its
// exit, and stopping it (SIGTERM, then SIGKILL). Everything else is the session's.
// Input distrusted: the client's bytes, the child's bytes, and the child's behaviour.

import { type ChildProcess, spawn } from 'node:child_process';
import { constants, createWriteStream, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { type SandboxPlan, sandboxedCommand } from '../../sandbox/argv.js';
import { LineReader } from '../framing.js';
import { type ClientStdioOptions, joinLines, StdioClientProxy } from './client-stdio.js';
import type { ServerChannel } from './types.js';

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

export interface ProxyOptions extends ClientStdioOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** The child's whole environment (see childEnvironment). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Child stderr is appended here if given (its last lines are kept in memory either way). */
  readonly stderrFile?: string;
  /**
   * Each line of the child's stderr as the log file keeps it (the caller redacts
   * credentials); without it the bytes are appended as they come.
   */
  readonly stderrLine?: (line: string) => string;
  /** Also given every chunk of the child's stderr (`--verbose` shows it as it comes). */
  readonly onStderr?: (chunk: Buffer) => void;
  /** Run the server in this sandbox (bubblewrap, rlimits): see src/sandbox/. */
  readonly sandbox?: SandboxPlan;
  /** Told once how the server's process ended, before the session ends (and seals) for it. */
  readonly onServerExit?: (exit: ServerExit) => void;
}

export interface ServerExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export class StdioProxy extends StdioClientProxy<ProxyOptions> {
  #child: ChildProcess | null = null;
  /** The end of the child's stderr, for the message that says why it died. */
  readonly #stderrTail = new TailBuffer(STDERR_TAIL_BYTES);
  /** How the server's process ended, once it has. */
  #serverExit: { readonly code: number | null; readonly signal: string | null } | null = null;

  constructor(options: ProxyOptions) {
    super({ ...options, startsServer: true });
  }

  /** How the server's process ended (a sandboxed one: bwrap's status), or null while it runs. */
  get serverExit(): { readonly code: number | null; readonly signal: string | null } | null {
    return this.#serverExit;
  }

  /** The last lines the server wrote on stderr (raw: the caller redacts before showing). */
  stderrTail(lines: number): string[] {
    return this.#stderrTail.lines(lines);
  }

  /** Start the child and begin relaying. Resolves once the child is running. */
  start(): Promise<void> {
    const options = this.options;
    const session = this.session;
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
    session.attach(this.clientChannel(), this.#serverChannel(child), (work) => this.batched(work));
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
      child.once('close', (code, signal) => this.#gone({ code, signal }));
      // But a grandchild can hold the server's stdout open forever: do not wait on it.
      child.once('exit', (code, signal) => {
        this.#serverExit = { code, signal };
        setTimeout(() => this.#gone({ code, signal }), EXIT_GRACE_MS).unref();
      });
    });
  }

  #told = false;

  /** The server is gone: its exit told once (it may be recorded), then the session ends. */
  #gone(exit: ServerExit): void {
    this.#serverExit ??= exit;
    if (!this.#told) {
      this.#told = true;
      try {
        this.options.onServerExit?.(this.#serverExit);
      } catch {} // what the observer throws never keeps the session from ending
    }
    this.session.serverGone(`the server exited (${exit.signal ?? `code ${exit.code}`})`);
  }

  /**
   * The child's stderr: its tail kept, appended to the log file when there is one (a
   * failing log never stops the session), and shown as it comes with --verbose. Read
   * without backpressure: a server blocked on a full stderr pipe would hang the session.
   */
  #collectStderr(stderr: Readable): void {
    const { stderrFile, onStderr } = this.options;
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
    const toFile = logLines(this.options.stderrLine, (text) => file?.write(text));
    stderr.on('data', (chunk: Buffer) => {
      this.#stderrTail.push(chunk);
      toFile.push(chunk);
      onStderr?.(chunk);
    });
    stderr.on('end', () => {
      toFile.end();
      file?.end();
    });
  }

  /** The child's lines, framed with the session's size cap, and the client's. */
  #relay(child: ChildProcess): void {
    const session = this.session;
    const fromChild = new LineReader(session.maxMessageBytes, {
      line: (text) => session.fromServer(text),
      oversize: (id, bytes) => session.serverOversize(id, bytes),
    });
    child.stdout?.on('data', (chunk: Buffer) => this.batched(() => fromChild.push(chunk)));
    child.stdout?.on('end', () => fromChild.end());
    child.stdin?.on('error', () => session.serverGone('the server closed its input (broken pipe)'));
    child.stdin?.on('drain', () => this.serverDrained());
    this.relayClient();
  }

  protected pauseServer(): void {
    this.#child?.stdout?.pause();
  }

  protected resumeServer(): void {
    this.#child?.stdout?.resume();
  }

  protected serverBacklog(): number {
    return this.#child?.stdin?.writableLength ?? 0;
  }

  protected releaseServer(lines: readonly string[], refusalsOnly: boolean): void {
    this.writeServer(joinLines(lines), refusalsOnly);
  }

  protected writeServer(line: string, refusal: boolean): void {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed) return;
    // The server is not reading: stop reading the client until it drains.
    if (!stdin.write(`${line}\n`) && !refusal) this.options.input.pause();
  }

  #serverChannel(child: ChildProcess): ServerChannel {
    return {
      get writable() {
        return child.stdin !== null && !child.stdin.destroyed;
      },
      send: (line, refusal) => {
        const stdin = child.stdin;
        if (!stdin || stdin.destroyed) return 'closed';
        if (refusal && this.queuedForServer() > CHILD_BUFFER_LIMIT) return 'dropped';
        this.toServer(line, refusal);
        return 'sent';
      },
      shutdown: () => {
        this.whenReleased(() => child.stdin?.end()); // after the chunk's lines
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

/** A line of stderr longer than this is logged in pieces of this size. */
const LOG_LINE_LIMIT = 64 * 1024;

/**
 * Bytes of stderr to the log, line by line through `each` when given (UTF-8 decoded
 * across chunks; an over-long line in pieces; the last line written at the end even
 * without its newline), else as they come.
 */
export function logLines(
  each: ((line: string) => string) | undefined,
  write: (text: string | Buffer) => void,
): { push(chunk: Buffer): void; end(): void } {
  if (each === undefined) return { push: write, end: () => {} };
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const flush = (text: string) => {
    partial += text;
    // Walked by index, cut once at the end: a chunk of many lines is not copied per line.
    let start = 0;
    for (;;) {
      const newline = partial.indexOf('\n', start);
      const end =
        newline === -1 ? start + LOG_LINE_LIMIT : Math.min(newline, start + LOG_LINE_LIMIT);
      if (newline === -1 && partial.length - start <= LOG_LINE_LIMIT) break;
      write(`${each(partial.slice(start, end).replace(/\r$/, ''))}\n`);
      start = end === newline ? end + 1 : end;
    }
    partial = partial.slice(start);
  };
  return {
    push: (chunk) => flush(decoder.write(chunk)),
    end: () => {
      flush(decoder.end());
      if (partial !== '') write(`${each(partial)}\n`);
      partial = '';
    },
  };
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
