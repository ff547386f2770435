// Where `agentk login` keeps what an OAuth sign-in to a remote MCP server gave (the
// registered client, the tokens, what discovery found), one file per server id and URL in
// the state directory's oauth/ (0700), each file 0600, replaced whole (a temporary file
// fsynced and renamed) so a reader never sees half of one. Outside the workspace by
// default, and inside the directory no tool call may touch. Nothing here ever shows a
// token: messages name the file, never what is in it.
// Input distrusted: what is on disk by the time we read it (a link, a file others can
// read, a file too large or not JSON is refused, never used).

import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { AgentkError } from '../errors.js';
import { STATE_HOME_ENV, stateHome } from './state.js';

/** A token file larger than this is not read (it holds a few kilobytes). */
const MAX_FILE_BYTES = 256 * 1024;

/** What one sign-in left, as stored (the parts are the OAuth documents, checked on use). */
export interface StoredOAuth {
  readonly serverId: string;
  /** The URL as shown (no query): for a person listing the directory. */
  readonly shown: string;
  readonly client: Readonly<Record<string, unknown>>;
  readonly tokens: Readonly<Record<string, unknown>>;
  /** When the access token expires (ms since the epoch), or null if the server did not say. */
  readonly expiresAt: number | null;
  readonly discovery: Readonly<Record<string, unknown>> | null;
}

/** The token file of a server id at a URL (nothing is created). */
export function oauthFile(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  serverId: string,
  url: URL,
): string {
  // The whole URL (query too) picks the file; only its hash is in the name.
  const hash = createHash('sha256').update(url.href).digest('hex').slice(0, 16);
  return join(stateHome(env, cwd), 'oauth', `${serverId}-${hash}.json`);
}

function stateError(path: string, why: string): AgentkError {
  return new AgentkError('STATE_IO', `${path}: ${why}`);
}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'error';
}

/**
 * The stored sign-in at `path`, or null when there is none. A file that is a link, not a
 * plain file, readable by others, too large or not what `writeOAuthFile` writes is
 * refused (fail closed: run `agentk login` again).
 */
export function readOAuthFile(path: string): StoredOAuth | null {
  let text: string;
  try {
    const stat = lstatSync(path);
    if (!stat.isFile()) throw stateError(path, 'not a plain file; refused');
    // Windows reports no owner-only modes (its ACLs decide): the check is for POSIX.
    if ((stat.mode & 0o077) !== 0 && process.platform !== 'win32') {
      throw stateError(path, 'readable by others (not 0600); refused: run agentk login again');
    }
    if (stat.size > MAX_FILE_BYTES) throw stateError(path, 'too large; refused');
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof AgentkError) throw error;
    if (code(error) === 'ENOENT') return null;
    throw stateError(path, `cannot read (${code(error)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw stateError(path, 'not JSON; run agentk login again');
  }
  const record = storedShape(parsed);
  if (record === null) throw stateError(path, 'not a token file of AgentK; run agentk login again');
  return record;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function storedShape(value: unknown): StoredOAuth | null {
  if (!isObject(value) || value.agentk_oauth !== 1) return null;
  const { server_id, url, client, tokens, expires_at, discovery } = value;
  if (typeof server_id !== 'string' || typeof url !== 'string') return null;
  if (!isObject(client) || !isObject(tokens)) return null;
  if (expires_at !== null && typeof expires_at !== 'number') return null;
  if (discovery !== null && !isObject(discovery)) return null;
  return { serverId: server_id, shown: url, client, tokens, expiresAt: expires_at, discovery };
}

/** The state directory's oauth/, created owner-only; a link or a non-directory is refused. */
function ensureOAuthDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) throw stateError(dir, 'not a directory; refused');
    if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  } catch (error) {
    if (error instanceof AgentkError) throw error;
    throw new AgentkError(
      'STATE_IO',
      `cannot create ${dir} (${code(error)}); set ${STATE_HOME_ENV} to a directory you can write`,
    );
  }
}

/** Replace the file at `path` with `record`, whole: 0600, fsynced, renamed over the old one. */
export function writeOAuthFile(path: string, record: StoredOAuth): void {
  const dir = dirname(path);
  ensureOAuthDir(dir);
  const text = `${JSON.stringify({
    agentk_oauth: 1,
    server_id: record.serverId,
    url: record.shown,
    client: record.client,
    tokens: record.tokens,
    expires_at: record.expiresAt,
    discovery: record.discovery,
  })}\n`;
  const temporary = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
  try {
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(temporary, 0o600); // whatever the umask
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or renamed already
    }
    throw stateError(path, `cannot write (${code(error)})`);
  }
}

/** Remove the file at `path`; whether there was one. */
export function removeOAuthFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if (code(error) === 'ENOENT') return false;
    throw stateError(path, `cannot remove (${code(error)})`);
  }
}

/** What changes when the file is replaced (its inode, time and size): for re-reading it. */
export function fileVersion(path: string): string | null {
  try {
    const stat = lstatSync(path);
    return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return null;
  }
}
