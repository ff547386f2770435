// cgroup v2 for a sandbox, where the host delegates it (docs/sandbox.md): detected from
// /proc/self/cgroup and the unified hierarchy, and, when this process's group has the
// memory and pids controllers and we may write it, used: the proxy moves itself into a
// leaf of its own (a group with processes cannot enable controllers for its children),
// enables the controllers for the children, and makes one child group per sandbox with
// memory.max, memory.swap.max, pids.max (and cpu.max when the profile sets a share). The
// server enters that group before bwrap starts (a shell writes its own pid, then execs
// bwrap), so everything it starts is counted there. When it exits, memory.events and
// pids.events say whether a limit was hit, which the exit status cannot always tell.
// Every path is under a root given by the caller (tests pass a fake tree).

import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { join, normalize } from 'node:path';
import type { SandboxLimits } from './profile.js';

const MIB = 1024 * 1024;
/** Controllers the sandbox needs; cpu is used only when the profile sets cpu_percent. */
const NEEDED = ['memory', 'pids'] as const;

export interface CgroupHost {
  /** cgroup v2 is mounted at the root (its cgroup.controllers exists). */
  readonly mounted: boolean;
  /** This process's group, `/user.slice/...`, or null. */
  readonly group: string | null;
  /** Controllers available in this process's group. */
  readonly controllers: readonly string[];
  /** Whether we may create groups in it and enable its children's controllers. */
  readonly writable: boolean;
  /** memory and pids available and writable: the sandbox uses a group of its own. */
  readonly delegated: boolean;
  /** One line for sandbox-check and the trace. */
  readonly summary: string;
}

export interface CgroupPaths {
  /** Where the unified hierarchy is mounted (default /sys/fs/cgroup). */
  readonly root: string;
  /** The text of /proc/self/cgroup. */
  readonly self: string;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The real paths: the unified hierarchy at /sys/fs/cgroup, our group from /proc. */
export function hostCgroupPaths(): CgroupPaths {
  return { root: '/sys/fs/cgroup', self: read('/proc/self/cgroup') ?? '' };
}

/**
 * What cgroup v2 offers this process (`pid`), under `paths`. Delegated means: memory and
 * pids available, the group and its subtree_control writable, and no other process in
 * the group (a client that runs in the same group keeps it from enabling controllers).
 */
export function detectCgroup(paths: CgroupPaths, pid: number = process.pid): CgroupHost {
  const group = paths.self
    .split('\n')
    .find((line) => line.startsWith('0::'))
    ?.slice(3)
    .trim();
  const mounted = existsSync(join(paths.root, 'cgroup.controllers'));
  if (!mounted || group === undefined || group === '') {
    return {
      mounted,
      group: group || null,
      controllers: [],
      writable: false,
      delegated: false,
      summary: mounted
        ? 'cgroup v2 mounted, but this process is in no v2 group: not used (rlimits enforce)'
        : `cgroup v2 not mounted at ${paths.root} (v1 or hybrid hierarchy): not used (rlimits enforce)`,
    };
  }
  const dir = join(paths.root, normalize(group));
  const controllers = (read(join(dir, 'cgroup.controllers')) ?? '').trim().split(/\s+/);
  const present = controllers.filter((name) => name !== '');
  const canWrite = writable(dir) && writable(join(dir, 'cgroup.subtree_control'));
  const missing = NEEDED.filter((name) => !present.includes(name));
  const others = (read(join(dir, 'cgroup.procs')) ?? '')
    .split('\n')
    .filter((line) => /^\d+$/.test(line.trim()) && Number(line) !== pid).length;
  const delegated = canWrite && missing.length === 0 && others === 0;
  const what = `cgroup v2 group ${group}, controllers [${present.join(' ') || 'none'}]`;
  const summary = delegated
    ? `${what}, delegated to us: each sandbox gets a group with memory.max and pids.max (and rlimits)`
    : !canWrite
      ? `${what}, not delegated to us (not writable): not used (rlimits enforce)`
      : missing.length > 0
        ? `${what}: ${missing.join(', ')} not delegated: not used (rlimits enforce)`
        : `${what}, writable, but it holds ${others} other process(es): give AgentK a group of its own (systemd-run --user --scope -p Delegate=yes ...); not used (rlimits enforce)`;
  return { mounted, group, controllers: present, writable: canWrite, delegated, summary };
}

/** A sandbox's own group, made under a delegated one. */
export interface SandboxCgroup {
  /** Its directory; the server's shell writes its pid to cgroup.procs here. */
  readonly dir: string;
  /** What it sets, for the trace: `memory.max 1342177280`, ... */
  readonly settings: readonly string[];
}

/**
 * Make the group for one sandbox under our delegated group: move this process into a
 * leaf of its own (once), enable memory and pids (and cpu, for cpu_percent) for the
 * children, and make `agentk-sandbox-<name>` with the limits. Throws with what failed.
 */
export function makeSandboxCgroup(
  paths: CgroupPaths,
  host: CgroupHost,
  name: string,
  limits: SandboxLimits,
  pid: number = process.pid,
): SandboxCgroup {
  if (!host.delegated || host.group === null) throw new Error('cgroup v2 is not delegated here');
  const parent = join(paths.root, normalize(host.group));
  const cpu = limits.cpuPercent !== undefined;
  if (cpu && !host.controllers.includes('cpu')) {
    throw new Error('cpu_percent needs the cpu controller, which is not delegated here');
  }
  const step = (what: string, work: () => void) => {
    try {
      work();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new Error(`${what} (${code})`);
    }
  };
  // A group with processes in it cannot give its children controllers: leave it for a leaf.
  const own = join(parent, 'agentk-proxy');
  step(`cannot make ${own}`, () => mkdirSync(own, { recursive: true }));
  step(`cannot move the proxy into ${own}`, () =>
    writeFileSync(join(own, 'cgroup.procs'), `${pid}\n`),
  );
  const enable = ['+memory', '+pids', ...(cpu ? ['+cpu'] : [])].join(' ');
  step(`cannot enable ${enable} in ${parent}`, () =>
    writeFileSync(join(parent, 'cgroup.subtree_control'), `${enable}\n`),
  );
  const dir = join(parent, `agentk-sandbox-${name}`);
  step(`cannot make ${dir}`, () => mkdirSync(dir));
  const settings: [string, string][] = [
    ['memory.max', String(limits.memoryMib * MIB)],
    ['memory.swap.max', '0'],
    ['pids.max', String(limits.processes)],
    ...(cpu
      ? ([['cpu.max', `${(limits.cpuPercent as number) * 1000} 100000`]] as [string, string][])
      : []),
  ];
  for (const [file, value] of settings) {
    step(`cannot set ${file} in ${dir}`, () => writeFileSync(join(dir, file), `${value}\n`));
  }
  return { dir, settings: settings.map(([file, value]) => `${file} ${value}`) };
}

/** `key value` lines (memory.events, pids.events) as numbers. */
function counters(text: string | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

/** What the group's counters say was hit: `memory.events oom_kill 1`, `pids.events max 3`. */
export function cgroupHits(group: SandboxCgroup): {
  readonly memory: readonly string[];
  readonly pids: readonly string[];
} {
  const memory = counters(read(join(group.dir, 'memory.events')));
  const pids = counters(read(join(group.dir, 'pids.events')));
  return {
    memory: ['oom_kill', 'oom', 'max']
      .filter((key) => (memory.get(key) ?? 0) > 0)
      .map((key) => `memory.events ${key} ${memory.get(key)}`),
    pids: (pids.get('max') ?? 0) > 0 ? [`pids.events max ${pids.get('max')}`] : [],
  };
}

/** Remove the group once its processes are gone (a group with processes stays: said, not thrown). */
export function removeSandboxCgroup(group: SandboxCgroup): boolean {
  try {
    rmdirSync(group.dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * The command line that enters the group and then runs `command args`: a shell writes its
 * own pid (`0` means the writer) to cgroup.procs and execs the command, so bwrap and
 * everything under it start inside the group.
 */
export function enterCgroup(
  group: SandboxCgroup,
  command: string,
  args: readonly string[],
): { readonly command: string; readonly args: string[] } {
  return {
    command: '/bin/sh',
    args: [
      '-c',
      'echo 0 > "$1" && shift && exec "$@"',
      'agentk-cgroup',
      join(group.dir, 'cgroup.procs'),
      command,
      ...args,
    ],
  };
}
