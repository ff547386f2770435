// The sandbox as evidence: the records of the trace's `sandbox` events (docs/flight-log.md).
// `start`, written once right after the trace opens: the profile the server runs under,
// what of it is enforced and how, and what is not (root and RLIMIT_NPROC, no cgroup,
// best-effort). `limit`, written when the server's end shows a limit hit (limits.ts).

import type { SandboxCgroup } from './cgroup.js';
import type { HostSupport } from './host.js';
import type { LimitHit } from './limits.js';
import { networkSummary, type SandboxProfile } from './profile.js';

/** A `sandbox` event's record: JSON data, `event` and `server_id` first. */
export type SandboxRecordData = Readonly<Record<string, unknown>> & {
  readonly event: 'start' | 'limit';
  readonly server_id: string;
};

function profileData(profile: SandboxProfile): Record<string, unknown> {
  const { limits } = profile;
  return {
    mode: profile.mode,
    workspace: profile.workspace,
    read: [...profile.read],
    write: [...profile.write],
    network: profile.network.length === 0 ? [] : networkSummary(profile.network).split(','),
    limits: {
      memory_mib: limits.memoryMib,
      processes: limits.processes,
      open_files: limits.openFiles,
      file_size_mib: limits.fileSizeMib,
      cpu_seconds: limits.cpuSeconds,
      ...(limits.cpuPercent !== undefined ? { cpu_percent: limits.cpuPercent } : {}),
    },
  };
}

/** What is enforced, and how, for a sandboxed server; and what is not. */
function enforcement(
  profile: SandboxProfile,
  host: HostSupport,
  cgroup: SandboxCgroup | null,
  cgroupProblem: string | null,
): { enforced: string[]; notEnforced: string[] } {
  const { limits } = profile;
  const paths = [
    `workspace ${profile.workspace}`,
    ...profile.read.map((path) => `read ${path}`),
    ...profile.write.map((path) => `write ${path}`),
  ];
  const enforced = [
    `filesystem view (bubblewrap): ${paths.join(', ')}; system and program read-only; empty $HOME; private /tmp; AgentK's files covered`,
    profile.network.length === 0
      ? 'network: none (a network namespace with its own loopback only)'
      : `network: ${networkSummary(profile.network)} only, through AgentK's filtering proxy (each attempt a network.send event)`,
    'a fresh PID namespace, a new session, no_new_privs, all capabilities dropped',
    `rlimit address space ${limits.memoryMib} MiB per process (RLIMIT_AS)`,
    ...(host.root ? [] : [`rlimit processes ${limits.processes} (RLIMIT_NPROC)`]),
    `rlimit open files ${limits.openFiles} (RLIMIT_NOFILE)`,
    `rlimit file size ${limits.fileSizeMib} MiB (RLIMIT_FSIZE)`,
    `rlimit CPU time ${limits.cpuSeconds} s per process (RLIMIT_CPU)`,
    ...(cgroup ? cgroup.settings.map((setting) => `cgroup ${setting} for the whole sandbox`) : []),
  ];
  const notEnforced = [
    ...(host.root
      ? [`processes (${limits.processes}): the kernel exempts uid 0 from RLIMIT_NPROC`]
      : []),
    ...(cgroup
      ? []
      : [
          `whole-sandbox memory and process totals (no cgroup: ${cgroupProblem ?? host.cgroup.summary})`,
        ]),
    ...(limits.cpuPercent !== undefined && cgroup === null
      ? [`CPU share ${limits.cpuPercent}%: needs a delegated cgroup (cpu.max)`]
      : []),
    'system calls (no seccomp filter)',
  ];
  return { enforced, notEnforced };
}

/** The `start` record: the profile the server runs under, sandboxed or (best-effort) not. */
export function startRecord(
  serverId: string,
  profile: SandboxProfile,
  host: HostSupport,
  how:
    | {
        readonly state: 'sandboxed';
        readonly cgroup: SandboxCgroup | null;
        readonly cgroupProblem: string | null;
      }
    | { readonly state: 'unsandboxed'; readonly reason: string },
): SandboxRecordData {
  const hostData = {
    bwrap: host.bwrap?.version ?? null,
    root: host.root,
    cgroup: host.cgroup.summary,
  };
  if (how.state === 'unsandboxed') {
    return {
      event: 'start',
      server_id: serverId,
      state: 'unsandboxed',
      reason: how.reason,
      profile: profileData(profile),
      enforced: [],
      not_enforced: ['everything: the server runs unsandboxed (best-effort)'],
      host: hostData,
    };
  }
  const { enforced, notEnforced } = enforcement(profile, host, how.cgroup, how.cgroupProblem);
  return {
    event: 'start',
    server_id: serverId,
    state: 'sandboxed',
    profile: profileData(profile),
    enforced,
    not_enforced: notEnforced,
    host: hostData,
  };
}

/** The `limit` record of a limit hit. */
export function limitRecord(serverId: string, hit: LimitHit): SandboxRecordData {
  return {
    event: 'limit',
    server_id: serverId,
    limit: hit.limit,
    value: hit.value,
    signal: hit.signal,
    exit_code: hit.exitCode,
    evidence: [...hit.evidence],
    message: hit.message,
  };
}
