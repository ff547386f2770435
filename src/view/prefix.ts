// Live mode's memory of the bytes it verified: a SHA-256 per block of the file's verified
// prefix, taken from the very bytes the verification read (never read again for it), so
// that a change to a line already verified is seen while the log keeps growing. After the
// file changes, the prefix is read again and compared, a bounded number of bytes a look
// (a sweep over a long log takes several looks; a change during a sweep asks for another).
// Input distrusted: the file's bytes now.

import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes a block: each block's digest is kept. */
export const PREFIX_BLOCK = 1 << 20;
/** Bytes read again at most per look. */
export const PREFIX_BUDGET = 4 * PREFIX_BLOCK;

export class PrefixDigests {
  readonly #digests: Buffer[] = [];
  /** The line each block starts in (1-based). */
  readonly #lines: number[] = [1];
  #hash: Hash = createHash('sha256');
  #partial = 0;
  #line = 1;
  /** Bytes fed: the verified prefix is [0, fed). */
  fed = 0;
  /** Where the sweep is (a block index), or -1 when none runs; and whether to sweep again. */
  #sweep = -1;
  #again = false;

  #stopped = false;

  /** The next verified line's bytes (without its newline). */
  line(bytes: Uint8Array): void {
    if (this.#stopped) return;
    this.#add(bytes);
    this.#add(NEWLINE);
    this.#line += 1;
    // A block that ended with this newline: the next starts on the next line.
    if (this.#partial === 0) this.#lines[this.#lines.length - 1] = this.#line;
  }

  /** A line not read whole (oversized): nothing from it on is compared. */
  stop(): void {
    this.#stopped = true;
  }

  #add(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(bytes.length - at, PREFIX_BLOCK - this.#partial);
      this.#hash.update(bytes.subarray(at, at + take));
      this.#partial += take;
      this.fed += take;
      at += take;
      if (this.#partial === PREFIX_BLOCK) {
        this.#digests.push(this.#hash.digest());
        this.#lines.push(this.#line);
        this.#hash = createHash('sha256');
        this.#partial = 0;
      }
    }
  }

  /** The file changed: compare the prefix again (from its start, once a running sweep ends). */
  changed(): void {
    if (this.#sweep === -1) this.#sweep = 0;
    else this.#again = true;
  }

  /**
   * Compare up to PREFIX_BUDGET bytes of the running sweep with what was verified. Returns
   * the line of the first block that differs, or null (nothing differs, or no sweep runs).
   * `budget`: bytes to compare at most (Infinity: the whole sweep now).
   */
  check(path: string, budget = PREFIX_BUDGET): number | null {
    if (this.#sweep === -1) return null;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return null;
    }
    try {
      return this.#checkBlocks(fd, budget);
    } finally {
      closeSync(fd);
    }
  }

  #checkBlocks(fd: number, bytes: number): number | null {
    const buffer = Buffer.allocUnsafe(PREFIX_BLOCK);
    let budget = bytes;
    while (budget > 0) {
      const block = this.#sweep;
      const whole = block < this.#digests.length;
      const length = whole ? PREFIX_BLOCK : this.#partial;
      const read = length === 0 ? 0 : readSync(fd, buffer, 0, length, block * PREFIX_BLOCK);
      const digest = createHash('sha256').update(buffer.subarray(0, read)).digest();
      const expected = whole ? (this.#digests[block] as Buffer) : this.#hash.copy().digest();
      if (read !== length || !digest.equals(expected)) return this.#lines[block] ?? 1;
      budget -= Math.max(length, 1);
      if (whole) {
        this.#sweep += 1;
        continue;
      }
      // The sweep reached the end of the prefix.
      this.#sweep = this.#again ? 0 : -1;
      this.#again = false;
      if (this.#sweep === -1) break;
    }
    return null;
  }
}

const NEWLINE = Buffer.from('\n');
