// The bubblewrap command line for one server under one profile (docs/sandbox.md). The
// sandbox's root is an empty tmpfs: only what is bound here exists in it. System
// directories, the Node runtime, the server's command and package are read-only; the
// workspace is as the profile says; $HOME is an empty tmpfs; /tmp is private; AgentK's
// state, policy and key files are covered where a bound directory would show them. All
// namespaces are new (no network but through AgentK's filtering proxy, when the profile
// has an allow-list; a fresh PID namespace), bwrap sets no-new-privileges,
// capabilities are dropped (they matter when AgentK runs as root), and the server dies
// with the proxy. Inside, prlimit sets the rlimits (soft = hard, so the server cannot
// raise them) and execs the server.

import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { enterCgroup, type SandboxCgroup } from './cgroup.js';
import { findExecutable } from './host.js';
import type { SandboxLimits, SandboxProfile } from './profile.js';
import {
  proxyEnvironment,
  relayCommand,
  SANDBOX_PROXY_SOCKET,
  UNSET_PROXY_VARIABLES,
} from './relay.js';

const MIB = 1024 * 1024;

/** Top-level system directories, shown read-only (or as the links they are on merged-/usr). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** What of /etc a runtime needs: users, name service, libraries, certificates, time zone. */
const ETC_ENTRIES = [
  'alternatives',
  'ca-certificates',
  'ca-certificates.conf',
  'gai.conf',
  'group',
  'host.conf',
  'hosts',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'passwd',
  'pki',
  'resolv.conf',
  'ssl',
];

/** Everything the sandbox needs besides the profile, fixed before the server starts. */
export interface SandboxPlan {
  readonly profile: SandboxProfile;
  readonly bwrap: string;
  readonly prlimit: string;
  /** The directory the server runs in (the proxy's working directory). */
  readonly workspace: string;
  /** The server's HOME, which it sees as an empty directory. */
  readonly home: string | undefined;
  /** The server's PATH, to find its command on. */
  readonly path: string | undefined;
  /** Paths no bound directory may show (AgentK's state, policy, key file, trace, log). */
  readonly hidden: readonly string[];
  /** The Node runtime the proxy runs on (its installation is shown read-only). */
  readonly runtime: string;
  /**
   * The filtering proxy's Unix socket, when the profile has a network allow-list: bound
   * into the sandbox, with the relay (relay.ts) in front of the server. Absent: no network.
   */
  readonly network?: { readonly socket: string };
  /** The sandbox's own cgroup, where the host delegates one (cgroup.ts): entered before bwrap. */
  readonly cgroup?: SandboxCgroup;
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

const under = (path: string, root: string) =>
  path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/** The outermost node_modules above `path`, or null. */
function outerNodeModules(path: string): string | null {
  const parts = path.split(sep);
  const index = parts.indexOf('node_modules');
  return index > 0 ? parts.slice(0, index + 1).join(sep) : null;
}

/** The directory of a script or command and, if it has one, its package's node_modules. */
function packageView(file: string): string[] {
  const modules = outerNodeModules(file);
  if (modules !== null) return [modules];
  const dirs = [dirname(file)];
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      if (existsSync(join(dir, 'node_modules'))) dirs.push(join(dir, 'node_modules'));
      break;
    }
  }
  return dirs;
}

/** The command as a path: as given if it names one, else the first match on PATH. */
function resolveCommand(command: string, plan: SandboxPlan): string | null {
  if (command.includes('/')) return resolve(plan.workspace, command);
  return findExecutable(command, plan.path);
}

/** A file argument that is a program (its directory and packages are shown), not data. */
const SCRIPT = /\.(?:[cm]?js|[cm]?ts|py|rb|pl|sh)$/;

/**
 * Read-only paths for the runtime, the command and the files its arguments name: a script's
 * package (its node_modules, or its directory); any other file alone, not its directory.
 */
function programDirs(plan: SandboxPlan, command: string, args: readonly string[]): string[] {
  const runtimeDir = dirname(real(plan.runtime));
  // A Node installation of its own (/opt/node/bin/node): its prefix, for npm and npx too.
  const runtime = basename(runtimeDir) === 'bin' ? dirname(runtimeDir) : runtimeDir;
  const programs: string[] = [];
  const data: string[] = [];
  const resolved = resolveCommand(command, plan);
  if (resolved !== null) programs.push(resolved);
  for (const arg of args) {
    if (!isAbsolute(arg)) continue;
    try {
      if (statSync(arg).isFile()) (SCRIPT.test(arg) ? programs : data).push(arg);
    } catch {}
  }
  return [runtime, ...[...programs, ...programs.map(real)].flatMap(packageView), ...data];
}

/** `--ro-bind` (or `--bind`) of `path` at itself and, when links lead elsewhere, at its real path. */
function bind(kind: '--ro-bind' | '--bind', path: string): string[] {
  const target = real(path);
  const out = [kind, target, path];
  if (target !== path) out.push(kind, target, target);
  return out;
}

function systemArgs(): string[] {
  const out: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    const target = real(dir);
    // Merged /usr: /lib is a link to usr/lib; make the same link, so paths read the same.
    if (target !== dir && dirname(dir) === '/') out.push('--symlink', target, dir);
    else out.push('--ro-bind', dir, dir);
  }
  for (const entry of ETC_ENTRIES)
    out.push('--ro-bind-try', join('/etc', entry), join('/etc', entry));
  return out;
}

/** prlimit's options for the profile's limits. */
export function limitArgs(limits: SandboxLimits): string[] {
  return [
    `--as=${limits.memoryMib * MIB}`,
    `--nproc=${limits.processes}`,
    `--nofile=${limits.openFiles}`,
    `--fsize=${limits.fileSizeMib * MIB}`,
    // SIGXCPU at the limit (a server may catch it and exit cleanly), SIGKILL a second later.
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
  ];
}

/** The paths of the view a server may write or read, beyond the system and its program. */
function viewArgs(plan: SandboxPlan): { args: string[]; roots: string[] } {
  const { profile, workspace } = plan;
  const args: string[] = [];
  const roots: string[] = [];
  if (profile.workspace !== 'none') {
    args.push(...bind(profile.workspace === 'rw' ? '--bind' : '--ro-bind', workspace));
    roots.push(workspace, real(workspace));
  }
  for (const path of profile.read) args.push(...bind('--ro-bind', path));
  for (const path of profile.write) args.push(...bind('--bind', path));
  roots.push(...profile.read, ...profile.write);
  return { args, roots };
}

/** Cover each hidden path that a bound directory would show: an empty directory, or /dev/null. */
function hideArgs(hidden: readonly string[], roots: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of new Set(hidden)) {
    if (!roots.some((root) => under(path, root))) continue;
    try {
      if (statSync(path).isDirectory()) out.push('--tmpfs', path, '--remount-ro', path);
      else out.push('--ro-bind', '/dev/null', path);
    } catch {}
  }
  return out;
}

/** The command line that runs `command args` in the sandbox the plan describes. */
export function sandboxedCommand(
  plan: SandboxPlan,
  command: string,
  args: readonly string[],
): { readonly command: string; readonly args: string[] } {
  const home = plan.home !== undefined && isAbsolute(plan.home) && plan.home !== '/';
  const programs = programDirs(plan, command, args).filter(
    (dir) => !SYSTEM_DIRS.some((system) => under(dir, system)),
  );
  const view = viewArgs(plan);
  const bwrapArgs = [
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    ...systemArgs(),
    ...['--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp'],
    ...(home ? ['--tmpfs', plan.home as string] : []),
    ...[...new Set(programs)].flatMap((dir) => bind('--ro-bind', dir)),
    ...view.args,
    ...hideArgs(plan.hidden, [...programs, ...view.roots]),
    ...networkArgs(plan),
    '--chdir',
    plan.profile.workspace === 'none' ? '/' : plan.workspace,
    '--',
    plan.prlimit,
    ...limitArgs(plan.profile.limits),
    '--',
    ...(plan.network ? relayCommand(plan.runtime, command, args) : [command, ...args]),
  ];
  return plan.cgroup
    ? enterCgroup(plan.cgroup, plan.bwrap, bwrapArgs)
    : { command: plan.bwrap, args: bwrapArgs };
}

/** The proxy's socket and the proxy variables, for a sandbox with a network allow-list. */
function networkArgs(plan: SandboxPlan): string[] {
  if (plan.network === undefined) return [];
  const env = Object.entries(proxyEnvironment()).flatMap(([name, value]) => [
    '--setenv',
    name,
    value,
  ]);
  const unset = UNSET_PROXY_VARIABLES.flatMap((name) => ['--unsetenv', name]);
  return ['--bind', plan.network.socket, SANDBOX_PROXY_SOCKET, ...env, ...unset];
}
