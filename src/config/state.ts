// AgentK's own state, outside the workspace the agent works in: pins, approvals, proxy
// traces and server logs live in a per-user state directory (`AGENTK_HOME`, else
// `$XDG_STATE_HOME/agentk`, else `~/.local/state/agentk`), traces and pins keyed by
// workspace (the directory the proxy runs in), approvals shared (a request hash names one
// request anywhere), so that every command finds them from any directory. A workspace
// that still has a `.agentk/` from before gets its pins copied over once, and is told
// where its traces and approvals went.
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

/** Plain, small files of `dir` ending in `ext` (never a link, a pipe or a directory). */
function plainFiles(dir: string, ext: string, usable: (path: string) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(ext));
  } catch {
    return [];
  }
  return names.filter((name) => {
    try {
      const stat = lstatSync(join(dir, name));
      return stat.isFile() && usable(join(dir, name));
    } catch {
      return false;
    }
  });
}

/** A legacy pin file the caller's pin reader accepts (config cannot read pins itself). */
export type PinCheck = (dir: string, file: string) => boolean;

function smallObject(path: string): boolean {
  try {
    if (lstatSync(path).size > MAX_PIN_FILE) return false;
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * A workspace's `.agentk/` from an AgentK before the state directory, taken over once:
 * its pins copied (not moved: nothing is lost) into the state directory when that has
 * none yet; its traces left where they are (`agentk runs list` points at them); its
 * approvals not used (each lasts an hour, and one that sat in the agent's reach is not
 * trusted more than the key that signed it: `agentk approve` again, into the state
 * directory). Returns the one line that tells the user, or null: said once per workspace
 * (a `legacy.json` beside its pins remembers it), or never when there is nothing to say.
 */
export function migrateLegacyState(
  dirs: StateDirs,
  cwd: string,
  /** Whether a pin file is one AgentK can use: one it cannot is left behind, and named. */
  usablePin: PinCheck,
): string | null {
  const legacy = join(cwd, '.agentk');
  const marker = join(dirs.pins, '..', 'legacy.json');
  if (existsSync(marker)) return null;
  const all = plainFiles(join(legacy, 'pins'), '.json', () => true);
  const pins = all.filter(
    (name) => smallObject(join(legacy, 'pins', name)) && usablePin(join(legacy, 'pins'), name),
  );
  const unusable = all.length - pins.length;
  const runs = plainFiles(join(legacy, 'runs'), '.jsonl', () => true).filter(
    (name) => name !== 'latest.jsonl',
  );
  const approvals = plainFiles(join(legacy, 'approvals'), '.json', () => true);
  // Pins and approvals are what only an older AgentK left there; traces alone may be the
  // demo's (it still writes them there), and `agentk runs list` points at those.
  if (all.length + approvals.length === 0) return null;
  const said: string[] = [];
  if (pins.length > 0) {
    const kept = plainFiles(dirs.pins, '.json', () => true);
    if (kept.length === 0) {
      ensureState(dirs, dirs.pins);
      for (const name of pins) {
        writeFileSync(join(dirs.pins, name), readFileSync(join(legacy, 'pins', name)), {
          mode: 0o600,
        });
      }
      said.push(
        `copied ${plural(pins.length, 'pin file')} to ${dirs.pins}, out of the agent's reach`,
      );
    } else {
      said.push(
        `kept the pins already in ${dirs.pins} (its ${plural(pins.length, 'pin file')} not copied)`,
      );
    }
  }
  if (unusable > 0) said.push(`${plural(unusable, 'pin file')} there not usable, left behind`);
  if (runs.length > 0)
    said.push(
      `its ${plural(runs.length, 'trace')} ${runs.length === 1 ? 'stays' : 'stay'} there (agentk runs list shows them)`,
    );
  if (approvals.length > 0) {
    said.push(
      `its ${plural(approvals.length, 'approval')} ${approvals.length === 1 ? 'is' : 'are'} not used (approve again: agentk approve writes to ${dirs.approvals})`,
    );
  }
  ensureState(dirs, dirs.pins);
  writeFileSync(
    marker,
    `${JSON.stringify({ legacy, pins, runs: runs.length, approvals: approvals.length })}\n`,
    {
      mode: 0o600,
    },
  );
  return `${legacy} is from an older AgentK: ${said.join('; ')}; remove it when you no longer need it`;
}
