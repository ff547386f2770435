// What this host can enforce: bubblewrap and its version, whether it may create user and
// network namespaces (found by trying, which is the only answer that holds: sysctls,
// AppArmor and seccomp filters of a container can each refuse), prlimit for the rlimits,
// cgroup v2 delegation (cgroup.ts), and whether we run as root (which the kernel
// exempts from the process limit). Read by `agentk sandbox-check` and before `--sandbox`
// starts a server.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { type CgroupHost, type CgroupPaths, detectCgroup, hostCgroupPaths } from './cgroup.js';

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
  /** cgroup v2: mounted, our group, its controllers, whether it is delegated to us. */
  readonly cgroup: CgroupHost;
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

const NOT_LINUX: CgroupHost = {
  mounted: false,
  group: null,
  controllers: [],
  writable: false,
  delegated: false,
  summary: 'not Linux',
};

/**
 * Probe the host. `path` is the PATH to look for bwrap and prlimit on; `cgroups` where the
 * unified hierarchy and our group are (tests give a fake tree).
 */
export function detectHost(
  path: string | undefined,
  cgroups: CgroupPaths | null = null,
): HostSupport {
  const linux = process.platform === 'linux';
  const bwrapPath = linux ? findExecutable('bwrap', path) : null;
  const prlimit = linux ? findExecutable('prlimit', path) : null;
  const root = process.getuid?.() === 0;
  const cgroup = linux ? detectCgroup(cgroups ?? hostCgroupPaths()) : NOT_LINUX;
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
