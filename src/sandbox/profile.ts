// A downstream server's sandbox profile (docs/sandbox.md): what it may see of the
// filesystem, whether it has a network, and the resource limits it runs under. The
// policy's `[sandbox.<server-id>]` table is parsed into one (policy/sandbox.ts); a server
// with no table that is sandboxed by `--sandbox` gets DEFAULT_PROFILE.

import { hostPort, type NetworkEntry } from './network.js';

/** `required`: no sandbox, no server. `best-effort`: run unsandboxed, saying so, if the host cannot. */
export type SandboxMode = 'required' | 'best-effort';

/** How the workspace (the directory the proxy runs in) is shown to the server. */
export type WorkspaceAccess = 'rw' | 'ro' | 'none';

/** Resource limits, each applied as an rlimit (soft = hard) inside the sandbox. */
export interface SandboxLimits {
  /** Address space (RLIMIT_AS), MiB. Node reserves about 700 MiB of it at start. */
  readonly memoryMib: number;
  /** Processes (RLIMIT_NPROC) of the sandbox's user in its user namespace. */
  readonly processes: number;
  /** Open file descriptors (RLIMIT_NOFILE). */
  readonly openFiles: number;
  /** Largest file the server may write (RLIMIT_FSIZE), MiB. */
  readonly fileSizeMib: number;
  /** CPU time (RLIMIT_CPU), seconds: SIGXCPU at this, SIGKILL one second later. */
  readonly cpuSeconds: number;
  /**
   * A CPU share (cgroup `cpu.max`, percent of one CPU), only where cgroup v2 is delegated:
   * no rlimit bounds a share, so elsewhere it is reported as not enforced.
   */
  readonly cpuPercent?: number;
}

export interface SandboxProfile {
  readonly mode: SandboxMode;
  readonly workspace: WorkspaceAccess;
  /** Further absolute paths shown read-only. */
  readonly read: readonly string[];
  /** Further absolute paths shown read-write. */
  readonly write: readonly string[];
  /**
   * The `host:port` places the server may connect to through AgentK's filtering proxy;
   * empty: none at all. Either way the sandbox has a network namespace of its own.
   */
  readonly network: readonly NetworkEntry[];
  readonly limits: SandboxLimits;
}

/**
 * Generous enough for the reference servers; a profile lowers them. CPU time is a
 * lifetime total for a long-lived server, so its default is high.
 */
export const DEFAULT_LIMITS: SandboxLimits = {
  memoryMib: 4096,
  processes: 256,
  openFiles: 1024,
  fileSizeMib: 1024,
  cpuSeconds: 3600,
};

export const DEFAULT_PROFILE: SandboxProfile = {
  mode: 'required',
  workspace: 'rw',
  read: [],
  write: [],
  network: [],
  limits: DEFAULT_LIMITS,
};

/** One line for the start message and the trace: what the server runs under. */
export function profileSummary(profile: SandboxProfile): string {
  const { limits } = profile;
  const paths = [
    `workspace ${profile.workspace}`,
    ...(profile.read.length > 0 ? [`read ${profile.read.join(',')}`] : []),
    ...(profile.write.length > 0 ? [`write ${profile.write.join(',')}`] : []),
  ];
  return (
    `${paths.join('; ')}; network ${networkSummary(profile.network)}; memory ${limits.memoryMib} MiB, ` +
    `${limits.processes} processes, ${limits.openFiles} files, ` +
    `file size ${limits.fileSizeMib} MiB, cpu ${limits.cpuSeconds} s` +
    (limits.cpuPercent !== undefined ? `, cpu share ${limits.cpuPercent}%` : '')
  );
}

/** `none`, or the allow-list as `host:port,host:port`. */
export function networkSummary(network: readonly NetworkEntry[]): string {
  return network.length === 0
    ? 'none'
    : network.map((entry) => hostPort(entry.host, entry.port)).join(',');
}
