// Which limit a sandboxed server hit, told from outside the sandbox (docs/sandbox.md): its
// exit status (bwrap exits 128 + n when the server dies of signal n), the last lines of its
// stderr (for an allocation failure), and, where the sandbox has a cgroup of its own, the
// group's counters (memory.events, pids.events). What the server saw inside and survived
// (EAGAIN from fork, EMFILE, EFBIG, an allocation that failed) leaves no trace outside
// unless a cgroup counted it: the server's own answers are the only word on it then.

import type { SandboxLimits } from './profile.js';

/** A limit hit, for the stderr line and the trace's `sandbox` limit event. */
export interface LimitHit {
  /** `cpu_seconds`, `file_size_mib`, `memory_mib`, `processes`, or `killed` / `signal` when it cannot be told. */
  readonly limit: string;
  /** The limit's value in the profile's unit, or null. */
  readonly value: number | null;
  /** The signal the server died of, or null (a cgroup counter, not a death). */
  readonly signal: string | null;
  /** bwrap's exit status, or null. */
  readonly exitCode: number | null;
  /** What the reading rests on: `exit status 152 = 128 + SIGXCPU`, `memory.events oom_kill 1`. */
  readonly evidence: readonly string[];
  /** The one line said on stderr. */
  readonly message: string;
}

/** Signal numbers bwrap's exit status carries (128 + n) for the limits' signals (Linux). */
const LIMIT_SIGNALS: Readonly<Record<number, string>> = {
  6: 'SIGABRT',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  24: 'SIGXCPU',
  25: 'SIGXFSZ',
};

const OOM_WORDS = /out of memory|allocation failed|ENOMEM|Cannot allocate memory/i;

/** What the cgroup's counters said, when the sandbox had one. */
export interface CgroupCounts {
  readonly memory: readonly string[];
  readonly pids: readonly string[];
}

/** The death's own reading: the signal in bwrap's status, and the stderr for an abort. */
function deathHit(
  code: number | null,
  limits: SandboxLimits,
  stderrTail: readonly string[],
  cgroup: CgroupCounts | null,
): LimitHit | null {
  if (code === null || code <= 128 || code > 128 + 64) return null;
  const signal = LIMIT_SIGNALS[code - 128];
  if (signal === undefined) return null;
  const evidence = [`exit status ${code} = 128 + ${signal}`];
  const hit = (limit: string, value: number | null, message: string, more: string[] = []) => ({
    limit,
    value,
    signal,
    exitCode: code,
    evidence: [...evidence, ...more],
    message,
  });
  const cpu = `${limits.cpuSeconds} s`;
  if (signal === 'SIGXCPU')
    return hit(
      'cpu_seconds',
      limits.cpuSeconds,
      `the server hit its CPU time limit (${cpu}, SIGXCPU)`,
    );
  if (signal === 'SIGXFSZ') {
    const size = `${limits.fileSizeMib} MiB`;
    return hit(
      'file_size_mib',
      limits.fileSizeMib,
      `the server hit its file size limit (${size}, SIGXFSZ)`,
    );
  }
  const oomKill = cgroup?.memory.find((line) => line.startsWith('memory.events oom_kill')) ?? null;
  if (signal === 'SIGKILL') {
    return oomKill !== null
      ? hit(
          'memory_mib',
          limits.memoryMib,
          `the server was killed by the kernel's OOM killer at its memory limit (${limits.memoryMib} MiB, cgroup memory.max, SIGKILL)`,
          [oomKill],
        )
      : hit(
          'killed',
          null,
          `the server was killed (SIGKILL): past its CPU time limit (${cpu}) or by the kernel's OOM killer`,
        );
  }
  const said = stderrTail.find((line) => OOM_WORDS.test(line));
  if (said !== undefined) {
    return hit(
      'memory_mib',
      limits.memoryMib,
      `the server ran out of memory under its limit (${limits.memoryMib} MiB address space, ${signal})`,
      ['its stderr says it ran out of memory'],
    );
  }
  return hit('signal', null, `the server died of ${signal} in the sandbox`);
}

/**
 * What a sandboxed server's end says of its limits: the death's reading, else a limit the
 * cgroup counted (the server lived on past it), else null.
 */
export function limitHit(
  code: number | null,
  limits: SandboxLimits,
  stderrTail: readonly string[],
  cgroup: CgroupCounts | null = null,
): LimitHit | null {
  const death = deathHit(code, limits, stderrTail, cgroup);
  if (death !== null) return death;
  if (cgroup === null) return null;
  const base = { signal: null, exitCode: code };
  if (cgroup.pids.length > 0) {
    return {
      ...base,
      limit: 'processes',
      value: limits.processes,
      evidence: [...cgroup.pids],
      message: `the server hit its process limit (${limits.processes}, cgroup pids.max): forks failed with EAGAIN`,
    };
  }
  if (cgroup.memory.length > 0) {
    return {
      ...base,
      limit: 'memory_mib',
      value: limits.memoryMib,
      evidence: [...cgroup.memory],
      message: `the server reached its memory limit (${limits.memoryMib} MiB, cgroup memory.max)`,
    };
  }
  return null;
}
