import type { CommandIo } from '../release/audit.js';

// What a command may touch: its output streams, environment and working directory. Tests
// pass their own; the real CLI passes the process's.

/** The audit runs commands with the same io, so the shape is defined once, where it is. */
export type CliIo = CommandIo;

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdin: process.stdin,
    stdoutStream: process.stdout,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Exit codes, decided in one place (cli/main.ts) and documented in README.md. */
export const EXIT = {
  ok: 0,
  /** A check ran and failed: tampered log, invalid policy, failed verification. */
  failed: 1,
  /** The command was used wrongly, or an input file is missing or unreadable. */
  usage: 2,
  /** The log's chain is intact but it has no seal: possibly truncated. */
  unsealed: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Text from a log or a peer, made safe for a terminal: control characters, DEL, C1 codes
 * and bidirectional overrides become visible escapes, so no value can forge a row, move
 * the cursor or reorder what a reviewer reads.
 */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
    /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Left-align columns: rows of cells -> lines. Cells are made printable. */
export function table(rawRows: readonly (readonly string[])[], gap = 2): string[] {
  const rows = rawRows.map((row) => row.map(printable));
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + gap)))
      .join('')
      .trimEnd(),
  );
}

/** `word` as one shell word: as it is when it is plainly safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
