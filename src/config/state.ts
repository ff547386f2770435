// AgentK's own state, outside the workspace the agent works in: pins, approvals, proxy
// traces and server logs live in a per-user state directory (`AGENTK_HOME`, else
// `$XDG_STATE_HOME/agentk`, else `~/.local/state/agentk`), traces and pins keyed by
// workspace (the directory the proxy runs in), approvals shared (a request hash names one
// request anywhere), so that every command finds them from any directory. A workspace
// that still has a `.agentk/pins` from before gets its pins copied over once.
// Input distrusted: the environment's paths (made absolute; a relative XDG path is ignored,
// as the XDG spec says).

import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { AgentkError } from '../errors.js';

export const STATE_HOME_ENV = 'AGENTK_HOME';
/** A legacy pin file larger than this is not copied. */
const MAX_PIN_FILE = 4 * 1024 * 1024;

/** The per-user state directory. */
export function stateHome(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const own = env[STATE_HOME_ENV];
  if (own !== undefined && own !== '') return resolve(cwd, own);
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'agentk');
  const home = env.HOME !== undefined && isAbsolute(env.HOME) ? env.HOME : homedir();
  // No home to keep it in (unset, or `/`): a relative or shared place would not do.
  if (!isAbsolute(home) || resolve(home) === '/') {
    throw new AgentkError(
      'STATE_IO',
      `no home directory to keep AgentK's state in; set ${STATE_HOME_ENV} to a directory you can write`,
    );
  }
  return join(home, '.local', 'state', 'agentk');
}

function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** `<name>-<hash>`: readable, and one per real workspace path. */
export function workspaceKey(workspace: string): string {
  const name =
    basename(workspace)
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 40) || 'root';
  const hash = createHash('sha256').update(workspace).digest('hex').slice(0, 12);
  return `${name}-${hash}`;
}

export interface StateDirs {
  /** The per-user state directory. */
  readonly home: string;
  /** The workspace (real path) the rest is kept for. */
  readonly workspace: string;
  readonly pins: string;
  readonly runs: string;
  readonly logs: string;
  /** Shared by every workspace. */
  readonly approvals: string;
}

/** Where AgentK keeps its state for the workspace `cwd` (nothing is created). */
export function stateDirs(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): StateDirs {
  const home = stateHome(env, cwd);
  const workspace = realOr(cwd);
  const root = join(home, 'workspaces', workspaceKey(workspace));
  return {
    home,
    workspace,
    pins: join(root, 'pins'),
    runs: join(root, 'runs'),
    logs: join(root, 'logs'),
    approvals: join(home, 'approvals'),
  };
}

/** Create a state directory (owner only) and note which workspace it is for. */
export function ensureState(dirs: StateDirs, dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const marker = join(dir, '..', 'workspace.json');
    if (dir !== dirs.approvals && !existsSync(marker)) {
      writeFileSync(marker, `${JSON.stringify({ workspace: dirs.workspace })}\n`, { mode: 0o600 });
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new AgentkError(
      'STATE_IO',
      `cannot create AgentK's state directory ${dir} (${code}); set ${STATE_HOME_ENV} to a directory you can write`,
    );
  }
  return dir;
}

/**
 * Pins a workspace kept in `.agentk/pins` before the state directory existed: copied (not
 * moved: nothing is lost) into the state directory when it has none yet. Returns a line to
 * tell the user, or null.
 */
export function migrateLegacyPins(dirs: StateDirs, cwd: string): string | null {
  const legacy = join(cwd, '.agentk', 'pins');
  let files: string[];
  try {
    files = readdirSync(legacy).filter((name) => name.endsWith('.json'));
  } catch {
    return null;
  }
  // Only plain, small files that hold a JSON object: never a link, a pipe or a directory.
  const usable = files.filter((name) => {
    try {
      const stat = lstatSync(join(legacy, name));
      if (!stat.isFile() || stat.size > MAX_PIN_FILE) return false;
      const parsed: unknown = JSON.parse(readFileSync(join(legacy, name), 'utf8'));
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    } catch {
      return false;
    }
  });
  if (usable.length === 0) return null;
  try {
    if (readdirSync(dirs.pins).some((name) => name.endsWith('.json'))) return null;
  } catch {
    // no pins in the state directory yet
  }
  ensureState(dirs, dirs.pins);
  for (const name of usable) {
    writeFileSync(join(dirs.pins, name), readFileSync(join(legacy, name)), { mode: 0o600 });
  }
  return `copied ${usable.length} pin file(s) from ${legacy} to ${dirs.pins}, out of the agent's reach; remove ${join(cwd, '.agentk')} when you no longer need it`;
}
