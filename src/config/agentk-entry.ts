// Whether an MCP client's entry starts AgentK, and which names in its `env` would configure
// AgentK's own process once it does. An entry starts AgentK only in the shapes AgentK's
// docs and `agentk wrap` write, with the subcommand at its fixed place: `agentk <sub>`,
// `<node> </abs/…/bin/agentk.js> <sub>`, `npx [-y] agentk-kernel[@version] <sub>`. The word
// agentk anywhere else (`sh -c '…' agentk mcp-proxy-stdio`, `./bin/agentk`, `npx agentk`,
// which is another npm package) does not make an entry AgentK.
// An entry taken for AgentK is left as it is, so only launchers that are AgentK here count:
// bare names (found on PATH), this node, a bin/agentk.js of this AgentK or of an installed
// copy outside the project. Anything else is wrapped like any server: if it was AgentK
// after all, running it behind AgentK again is harmless.
// Input distrusted: command, args and env names of a client configuration, which may come
// from a project the user did not write.

import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { PACKAGE_NAME, PACKAGE_ROOT } from '../paths.js';

/** How an entry starts AgentK. */
export interface AgentkLaunch {
  /** The words before the subcommand, as written: `/usr/bin/node /opt/agentk/bin/agentk.js`. */
  readonly launcher: string;
  /** The subcommand (`mcp-proxy-stdio`, `mcp-server`, ...); '' when there is none. */
  readonly subcommand: string;
  /** Where the subcommand's own arguments start in `args`. */
  readonly argsStart: number;
}

const pathParts = (path: string): string[] => path.split(/[\\/]/);
const baseName = (path: string): string => pathParts(path).pop() ?? path;
/** Absolute on either system: a config may come from Windows. */
const isAbsolutePath = (path: string): boolean => /^(?:[A-Za-z]:)?[\\/]/.test(path);

/**
 * `node` by its bare name (found on PATH), or this machine's node by its absolute path: a
 * `./node` or `tools/node` is whatever the project ships.
 */
function isNode(command: string): boolean {
  return command === process.execPath || /^node(?:\.exe)?$/i.test(command);
}

/** Where a path lies for real, or null when it does not exist here. */
function realPath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** `inner` is `outer` or lies inside it (both real paths). */
const isInside = (inner: string, outer: string): boolean =>
  inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : `${outer}${sep}`);

/**
 * The project a configuration belongs to: the folder of the file, or the one above
 * `.vscode`/`.cursor`, which hold a project's configuration.
 */
function projectOf(configFile: string): string {
  const dir = dirname(resolve(configFile));
  return /^\.(?:vscode|cursor)$/i.test(basename(dir)) ? dirname(dir) : dir;
}

/**
 * The bin/agentk.js of this AgentK or of an installed copy (under node_modules/agentk-kernel),
 * by its absolute path, as it lies for real, outside the project of the configuration: a
 * relative path depends on the client's cwd; /proc/self/cwd/…, a UNC share (\\\\host\\…,
 * \\\\?\\…) or a path that does not exist here may be anything.
 */
function isAgentkScript(path: string, configFile: string): boolean {
  const [script, bin] = pathParts(path).reverse();
  if (!isAbsolutePath(path) || script !== 'agentk.js' || bin !== 'bin') return false;
  if (/^[\\/]{2}/.test(path) || /^\/proc(?:\/|$)/.test(path)) return false;
  const real = realPath(path);
  if (real === null) return false;
  // Inside the project as written (a link it may point elsewhere tomorrow) or for real.
  const project = projectOf(configFile);
  const projects = [project, realPath(project) ?? project];
  if ([resolve(path), real].some((at) => projects.some((dir) => isInside(at, dir)))) return false;
  if (real === realPath(join(PACKAGE_ROOT, 'bin', 'agentk.js'))) return true;
  const parts = real.split(sep).reverse();
  return (
    parts[0] === 'agentk.js' &&
    parts[1] === 'bin' &&
    parts[2] === PACKAGE_NAME &&
    parts[3] === 'node_modules'
  );
}

/** Where the package name sits after `npx`: after one `-y`/`--yes`, if any. */
function npxPackageAt(command: string, args: readonly string[]): number | null {
  if (!/^npx(?:\.cmd|\.exe)?$/i.test(command)) return null;
  return args[0] === '-y' || args[0] === '--yes' ? 1 : 0;
}

/** A version or tag only: no `npm:`, `file:`, `github:` alias, no path. */
const KERNEL_PACKAGE = /^agentk-kernel(?:@[\w.^~*+-]+)?$/;

/** How many args belong to the launcher, or null when the entry does not start AgentK. */
function launcherLength(
  command: string,
  args: readonly string[],
  configFile: string,
): number | null {
  if (/^agentk(?:\.cmd|\.exe)?$/.test(command)) return 0;
  if (isNode(command)) return isAgentkScript(args[0] ?? '', configFile) ? 1 : null;
  const at = npxPackageAt(command, args);
  return at !== null && KERNEL_PACKAGE.test(args[at] ?? '') ? at + 1 : null;
}

/**
 * How the entry starts AgentK, or null when it does not; `configFile` is the configuration
 * it comes from (a script inside its project is the project's).
 */
export function agentkLaunch(
  command: string,
  args: readonly string[],
  configFile: string,
): AgentkLaunch | null {
  const length = launcherLength(command, args, configFile);
  if (length === null) return null;
  return {
    launcher: [command, ...args.slice(0, length)].join(' '),
    subcommand: args[length] ?? '',
    argsStart: length + 1,
  };
}

/**
 * Why an entry that is not AgentK might be taken for it, or null: `npx agentk` (the npm
 * package agentk is not AgentK) or the word agentk as a command or argument.
 */
export function lookalikeNote(command: string, args: readonly string[]): string | null {
  const at = npxPackageAt(command, args);
  if (at !== null && /^agentk(?:@|$)/i.test(args[at] ?? '')) {
    return 'npx agentk runs the npm package agentk, which is not AgentK (agentk-kernel): treated as any server';
  }
  const word = /^agentk(?:@[^\s/\\]+)?(?:\.js|\.cmd|\.exe|\.ps1)?$/i;
  if ([command, ...args].some((part) => word.test(baseName(part)))) {
    return 'names agentk, but not as AgentK is started (agentk, <node> /…/bin/agentk.js of an AgentK here, npx agentk-kernel): treated as any server (if it is AgentK, AgentK in front of it again is harmless)';
  }
  return null;
}

/** Names node reads at start to load code or data into the process. */
const NODE_LOADS = new Set([
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_REPL_EXTERNAL_MODULE',
  'NODE_ICU_DATA',
]);
/** Names that decide where AgentK keeps its state (pins, approvals). */
const STATE_PLACE = new Set(['HOME', 'USERPROFILE', 'XDG_STATE_HOME']);

/**
 * Why setting `name` on AgentK's process (where a client puts an entry's env once AgentK
 * fronts it) would configure AgentK and not only the server, or null when it would not.
 */
export function kernelEnvReason(name: string): string | null {
  // Windows reads names without regard to case.
  const upper = name.toUpperCase();
  if (NODE_LOADS.has(upper)) return 'node reads it at start: code it names runs inside AgentK';
  if (/^(?:LD|DYLD)_/.test(upper)) {
    return 'the dynamic loader reads it: a library it names runs inside AgentK';
  }
  if (upper.startsWith('AGENTK_')) return 'AgentK reads it as its own setting';
  if (STATE_PLACE.has(upper)) return 'it moves where AgentK keeps its pins and approvals';
  return null;
}
