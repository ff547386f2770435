// Rewriting a file the user owns (an MCP client's configuration): a backup beside it first,
// never over an existing one; then the new text into a temporary file in the same
// directory, with the file's mode, renamed over it; and nothing at all if the file changed
// since it was read (the client may rewrite its own configuration at any time). A symbolic
// link is followed, so a config kept in a dotfiles repository stays a link.
// Input distrusted: the path and what is there by the time we write.

import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AgentkError } from '../errors.js';

function failure(path: string, what: string, error: unknown): AgentkError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new AgentkError('FILE_UNREADABLE', `${path}: cannot ${what} (${code}); nothing changed`);
}

/** `20261207T044749Z`: sorts by time, and is a plain file name on every platform. */
function stamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

function unchanged(real: string, expected: string, shown: string): void {
  let current: string;
  try {
    current = readFileSync(real, 'utf8');
  } catch (error) {
    throw failure(shown, 'read it again', error);
  }
  // readConfigText decoded without a byte-order mark; compare the same way.
  if (current.replace(/^\uFEFF/, '') !== expected) {
    throw new AgentkError(
      'FILE_CHANGED',
      `${shown} changed while agentk was editing it (the client may have rewritten it); nothing changed: run again`,
    );
  }
}

/** Copy the file to `<file>.agentk-backup-<time>` (or `-2`, `-3`...), never replacing one. */
function backup(real: string, shown: string, now: Date): string {
  const base = `${real}.agentk-backup-${stamp(now)}`;
  for (let n = 1; n < 100; n++) {
    const path = n === 1 ? base : `${base}-${n}`;
    try {
      copyFileSync(real, path, constants.COPYFILE_EXCL); // the bytes and the mode of the original
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw failure(shown, 'write a backup beside it', error);
      }
    }
  }
  throw new AgentkError(
    'FILE_UNREADABLE',
    `${shown}: too many backups named ${base}; nothing changed`,
  );
}

/**
 * Replace the text of `path` (read as `before`) with `after`, keeping a backup. Returns the
 * backup's path. Throws, with the file untouched, if it no longer reads as `before`.
 */
export function replaceWithBackup(
  path: string,
  before: string,
  after: string,
  now = new Date(),
): string {
  let real: string;
  let mode: number;
  try {
    real = realpathSync(path);
    mode = statSync(real).mode & 0o777;
  } catch (error) {
    throw failure(path, 'read it again', error);
  }
  unchanged(real, before, path);
  const saved = backup(real, path, now);
  unchanged(saved, before, path);
  const temporary = join(
    dirname(real),
    `.${basename(real)}.agentk-${process.pid}-${Date.now()}.tmp`,
  );
  let fd: number;
  try {
    fd = openSync(temporary, 'wx', mode);
  } catch (error) {
    throw failure(path, 'write beside it', error);
  }
  try {
    try {
      writeSync(fd, after);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (process.platform !== 'win32') chmodSync(temporary, mode); // the umask may have cut it
    unchanged(real, before, path);
    renameSync(temporary, real);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // already gone
    }
    if (error instanceof AgentkError) throw error;
    throw failure(path, 'replace it', error);
  }
  return saved;
}
