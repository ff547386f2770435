// What this host can enforce: bubblewrap and its version, whether it may create user and
// network namespaces (found by trying, which is the only answer that holds: sysctls,
// AppArmor and seccomp filters of a container can each refuse), prlimit for the rlimits,
// cgroup v2 delegation (reported only), and whether we run as root (which the kernel
// exempts from the process limit). Read by `agentk sandbox-check` and before `--sandbox`
// starts a server.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** How long a probe may take (a bwrap that hangs is a bwrap that does not work). */
const PROBE_TIMEOUT_MS = 10_000;

export interface HostSupport {
  readonly bwrap: { readonly path: string; readonly version: string } | null;
  readonly prlimit: string | null;
  /** null: not tried (no bwrap). */
  readonly userNamespaces: boolean | null;
  readonly networkNamespaces: boolean | null;
  /** What bwrap said when a probe failed (its first line). */
  readonly probeError: string | null;
  readonly cgroup: string;
  readonly root: boolean;
  /** Why `--sandbox` would fail here, in one line; null when it would not. */
  readonly missing: string | null;
}

/** The first executable `name` on PATH (unset or empty: /usr/bin:/bin), or null. */
export function findExecutable(name: string, path: string | undefined): string | null {
  const dirs = (path || '/usr/bin:/bin').split(delimiter).filter((dir) => isAbsolute(dir));
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/** Run bwrap with `args`; null when it worked, else the first line it wrote. */
function probe(bwrap: string, args: readonly string[]): string | null {
  const result = spawnSync(bwrap, [...args, '--ro-bind', '/', '/', '--', 'true'], {
    encoding: 'utf8',
    timeout: PROBE_TIMEOUT_MS,
    env: { PATH: '/usr/bin:/bin' },
  });
  if (result.status === 0) return null;
  const said = `${result.stderr ?? ''}`.split('\n').find((line) => line.trim() !== '');
  return said?.trim() ?? result.error?.message ?? `exit ${result.status ?? result.signal}`;
}

function bwrapVersion(bwrap: string): string {
  const result = spawnSync(bwrap, ['--version'], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS });
  return `${result.stdout ?? ''}`.trim().replace(/^bubblewrap\s+/, '') || 'unknown';
}

/** cgroup v2 in one line: the unified hierarchy, this process's group, what it may delegate. */
export function cgroupState(): string {
  let ours: string | undefined;
  try {
    ours = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((line) => line.startsWith('0::'))
      ?.slice(3);
  } catch {}
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers') || ours === undefined) {
    return 'cgroup v2 not mounted at /sys/fs/cgroup (v1 or hybrid hierarchy): not used';
  }
  const dir = join('/sys/fs/cgroup', ours);
  let controllers = '';
  try {
    controllers = readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim();
  } catch {}
  let writable = false;
  try {
    accessSync(join(dir, 'cgroup.subtree_control'), constants.W_OK);
    writable = true;
  } catch {}
  const delegated = writable ? 'delegated to us' : 'not delegated to us (not writable)';
  return `cgroup v2 group ${ours}, controllers [${controllers || 'none'}], ${delegated}; not used yet (rlimits enforce)`;
}

/** Probe the host. `path` is the PATH to look for bwrap and prlimit on. */
export function detectHost(path: string | undefined): HostSupport {
  const linux = process.platform === 'linux';
  const bwrapPath = linux ? findExecutable('bwrap', path) : null;
  const prlimit = linux ? findExecutable('prlimit', path) : null;
  const root = process.getuid?.() === 0;
  const cgroup = linux ? cgroupState() : 'not Linux';
  if (bwrapPath === null) {
    return {
      bwrap: null,
      prlimit,
      userNamespaces: null,
      networkNamespaces: null,
      probeError: null,
      cgroup,
      root,
      missing: linux
        ? 'bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)'
        : `the sandbox is built on Linux namespaces (bubblewrap); ${process.platform} is not supported yet`,
    };
  }
  const userError = probe(bwrapPath, ['--unshare-user']);
  const netError = userError === null ? probe(bwrapPath, ['--unshare-all']) : userError;
  const missing =
    userError !== null
      ? `bwrap cannot create a user namespace here (${userError}); on Debian/Ubuntu check kernel.unprivileged_userns_clone and AppArmor's restrict_unprivileged_userns`
      : netError !== null
        ? `bwrap cannot create network and PID namespaces here (${netError})`
        : prlimit === null
          ? 'prlimit (util-linux) is not installed: the resource limits cannot be applied'
          : null;
  return {
    bwrap: { path: bwrapPath, version: bwrapVersion(bwrapPath) },
    prlimit,
    userNamespaces: userError === null,
    networkNamespaces: userError === null ? netError === null : null,
    probeError: userError ?? netError,
    cgroup,
    root,
    missing,
  };
}
