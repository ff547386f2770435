// A streaming, bounded line reader over a file: memory stays flat however large the log
// is, and a hostile file without newlines cannot make it buffer more than `maxLineBytes`.

import { closeSync, openSync, readSync } from 'node:fs';

export interface RawLine {
  /** 1-based line number. */
  readonly number: number;
  /** Valid until the next line is read: a line that fits in one chunk is a view of it. */
  readonly bytes: Buffer;
  /** False only for a final line with no newline (a torn write or a cut file). */
  readonly terminated: boolean;
  /** True when the line exceeded maxLineBytes; `bytes` then holds only a prefix. */
  readonly oversized: boolean;
}

const CHUNK = 1 << 20;

export function* readLines(path: string, maxLineBytes: number): Generator<RawLine> {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let oversized = false;
    let number = 0;
    for (;;) {
      const read = readSync(fd, chunk, 0, CHUNK, null);
      if (read === 0) break;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl === -1 || nl >= read) break;
        number += 1;
        const piece = chunk.subarray(start, nl);
        const bytes = pendingBytes === 0 ? piece : Buffer.concat([...pending, piece]);
        yield {
          number,
          bytes,
          terminated: true,
          oversized: oversized || bytes.length > maxLineBytes,
        };
        pending = [];
        pendingBytes = 0;
        oversized = false;
        start = nl + 1;
      }
      if (start < read) {
        const rest = chunk.subarray(start, read);
        if (pendingBytes + rest.length > maxLineBytes) {
          oversized = true;
          // Keep only a bounded prefix for the error message.
          if (pendingBytes < 256) {
            pending.push(Buffer.from(rest.subarray(0, 256)));
            pendingBytes += Math.min(256, rest.length);
          }
        } else {
          pending.push(Buffer.from(rest));
          pendingBytes += rest.length;
        }
      }
    }
    if (pendingBytes > 0 || oversized) {
      number += 1;
      yield { number, bytes: Buffer.concat(pending), terminated: false, oversized };
    }
  } finally {
    closeSync(fd);
  }
}
