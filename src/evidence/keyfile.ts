// Signing-key files on disk: creating them safely (mode 0600, never overwriting by
// accident, never in a directory others can write), and judging whether an existing one
// is safe to sign evidence with (readiness). Only the public key is ever printed.
// Input distrusted: paths and the permissions of what they name.

import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { generateSeedHex, randomHex, type Signer, signerFromSeedHex } from '../crypto/index.js';
import { AgentkError } from '../errors.js';

const POSIX = process.platform !== 'win32';

function mode(path: string): number | null {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return null;
  }
}

/** Why a key file is unsafe to sign with: readable by others, or in a directory others can write. */
export function keyFileProblems(path: string): string[] {
  if (!POSIX) return [];
  const problems: string[] = [];
  const fileMode = mode(path);
  if (fileMode === null) return [`key file ${path} cannot be read`];
  if (fileMode & 0o077) {
    problems.push(
      `key file ${path} is accessible by group or others (mode ${fileMode.toString(8).padStart(4, '0')}); run chmod 600`,
    );
  }
  const dir = dirname(resolve(path));
  const dirMode = mode(dir);
  if (dirMode !== null && dirMode & 0o022) {
    problems.push(
      `key directory ${dir} is writable by group or others (mode ${dirMode.toString(8).padStart(4, '0')})`,
    );
  }
  return problems;
}

/** Refuse to create key material where others could swap or read it. */
function assertSafeDirectory(dir: string): void {
  const dirMode = mode(dir);
  if (dirMode === null) throw new AgentkError('FILE_NOT_FOUND', `directory ${dir} does not exist`);
  if (POSIX && dirMode & 0o022) {
    throw new AgentkError(
      'KEY_UNSAFE',
      `refusing to write a key into ${dir}: it is writable by group or others (mode ${dirMode.toString(8).padStart(4, '0')})`,
    );
  }
}

function writeExclusive(path: string, text: string, shown: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new AgentkError('KEY_EXISTS', `${shown} already exists; pass --force to replace it`);
    }
    throw new AgentkError('FILE_UNREADABLE', `cannot create ${shown} (${code ?? 'error'})`);
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (POSIX) chmodSync(path, 0o600);
}

/**
 * Create a new Ed25519 key file (64 hex digits and a newline, mode 0600) and return its
 * signer. Refuses an existing file unless `force`, and a directory others can write.
 */
export function writeNewKeyFile(path: string, force = false): Signer {
  const target = resolve(path);
  const dir = dirname(target);
  assertSafeDirectory(dir);
  const seed = generateSeedHex();
  const text = `${seed}\n`;
  if (!force) {
    writeExclusive(target, text, path);
  } else {
    if (mode(target) !== null && !statSync(target).isFile()) {
      throw new AgentkError('KEY_EXISTS', `${path} exists and is not a regular file`);
    }
    const temp = join(dir, `.${basename(target)}.${randomHex(6)}.tmp`);
    writeExclusive(temp, text, path);
    try {
      renameSync(temp, target);
    } catch (error) {
      unlinkSync(temp);
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new AgentkError('FILE_UNREADABLE', `cannot replace ${path} (${code})`);
    }
  }
  return signerFromSeedHex(seed, 'file');
}
