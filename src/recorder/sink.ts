// Where flight-log lines go. The file sink appends each line with one synchronous write to
// an O_APPEND descriptor before the caller's effect runs, so a crashed process loses at
// most the event in flight; `fsync` durability also survives power loss, at a cost.
// `group` durability is group commit: appends are written at once, and sync() makes
// everything written so far durable with one fsync; the caller holds its effects until
// then (the MCP proxy's --fsync syncs once per turn of the event loop, not per event).
// appendBytes() takes lines as the recorder encodes them, UTF-8 in its reused buffer (one
// event, or a whole batch: all lines in one write(2) and, with `fsync`, one fsync);
// appendLines() does the same for lines given as strings.

import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentkError } from '../errors.js';

export type Durability = 'flush' | 'fsync' | 'group';

export interface LogSink {
  /** Where the log lives, or null for an in-memory log. */
  readonly path: string | null;
  /** Append one complete line (with its newline). Throws AgentkError('TRACE_IO') on failure. */
  append(line: string): void;
  /**
   * Append complete lines given as UTF-8 (optional: else they are decoded and appended as a
   * string). The bytes may be reused once this returns: write or copy them before.
   */
  appendBytes?(bytes: Uint8Array): void;
  /** Append several complete lines at once (optional: else each is appended in turn). */
  appendLines?(lines: readonly string[]): void;
  /** Make every line appended so far durable (group commit); a no-op where not needed. */
  sync?(): void;
  close(): void;
}

export class FileSink implements LogSink {
  readonly path: string;
  readonly #durability: Durability;
  #fd: number | null;
  #dirty = false;

  /** Create a new log file; refuses to touch an existing one (`ax`: O_APPEND | O_EXCL). */
  constructor(path: string, durability: Durability = 'flush') {
    this.path = path;
    this.#durability = durability;
    try {
      // Only the user reads a trace (targets, intents, hashes): 0600, in a 0700 directory
      // when AgentK creates it. O_EXCL never follows a symlink.
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      this.#fd = openSync(path, 'ax', 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        throw new AgentkError('TRACE_EXISTS', `trace ${path} already exists; choose a new path`);
      }
      throw new AgentkError('TRACE_IO', `cannot create trace ${path} (${code ?? 'error'})`);
    }
  }

  append(line: string): void {
    this.#write(line);
  }

  appendLines(lines: readonly string[]): void {
    this.#write(lines.join(''));
  }

  appendBytes(bytes: Uint8Array): void {
    if (this.#fd === null) throw new AgentkError('RECORDER_CLOSED', `trace ${this.path} is closed`);
    try {
      let offset = writeSync(this.#fd, bytes);
      // A short write (rare: a full disk, a signal) is finished from where it stopped.
      while (offset < bytes.length) {
        offset += writeSync(this.#fd, bytes, offset, bytes.length - offset);
      }
      this.#synced();
    } catch (error) {
      throw traceError(error, this.path);
    }
  }

  /** Write whole lines with one write(2), then fsync them or mark them for sync(). */
  #write(text: string): void {
    if (this.#fd === null) throw new AgentkError('RECORDER_CLOSED', `trace ${this.path} is closed`);
    try {
      // The string goes straight to write(2); a short write (rare: a full disk, a signal)
      // finishes from a buffer of the rest.
      const written = writeSync(this.#fd, text);
      if (written < Buffer.byteLength(text, 'utf8')) {
        const bytes = Buffer.from(text, 'utf8');
        let offset = written;
        while (offset < bytes.length) {
          offset += writeSync(this.#fd, bytes, offset, bytes.length - offset);
        }
      }
      this.#synced();
    } catch (error) {
      throw traceError(error, this.path);
    }
  }

  /** After a write: fsync it (`fsync`), or mark it for sync() (`group`). */
  #synced(): void {
    if (this.#durability === 'fsync') fsyncSync(this.#fd as number);
    else if (this.#durability === 'group') this.#dirty = true;
  }

  sync(): void {
    if (this.#fd === null || !this.#dirty) return;
    try {
      fsyncSync(this.#fd);
      this.#dirty = false;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new AgentkError('TRACE_IO', `cannot sync trace ${this.path} (${code})`);
    }
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function traceError(error: unknown, path: string): AgentkError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new AgentkError('TRACE_IO', `cannot append to trace ${path} (${code})`);
}

/** An in-memory log, for tests and embedders that ship lines elsewhere. */
export class MemorySink implements LogSink {
  readonly path = null;
  readonly lines: string[] = [];
  #closed = false;

  append(line: string): void {
    if (this.#closed) throw new AgentkError('RECORDER_CLOSED', 'in-memory trace is closed');
    this.lines.push(line);
  }

  close(): void {
    this.#closed = true;
  }

  /** The log as the bytes a file sink would have written. */
  text(): string {
    return this.lines.join('');
  }
}
