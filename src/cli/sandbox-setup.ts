// `--sandbox` and `[sandbox.<server-id>]` for the proxy command: which profile applies,
// whether this host can enforce it (fail closed, or best-effort said aloud), the filtering
// proxy of a profile with a network allow-list (each attempt a network.send syscall), and
// what a sandboxed server's death says about its limits.

import { AgentkError } from '../errors.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Policy } from '../policy/types.js';
import type { SandboxPlan } from '../sandbox/argv.js';
import {
  type CgroupPaths,
  cgroupHits,
  hostCgroupPaths,
  makeSandboxCgroup,
  removeSandboxCgroup,
  type SandboxCgroup,
} from '../sandbox/cgroup.js';
import { type EgressAttempt, EgressProxy, type EgressVerdict } from '../sandbox/egress.js';
import { detectHost, type HostSupport } from '../sandbox/host.js';
import { type LimitHit, limitHit } from '../sandbox/limits.js';
import { planSandbox } from '../sandbox/plan.js';
import { DEFAULT_PROFILE, profileSummary, type SandboxProfile } from '../sandbox/profile.js';
import { limitRecord, type SandboxRecordData, startRecord } from '../sandbox/record.js';

export interface SandboxSetup {
  readonly plan: SandboxPlan | undefined;
  readonly profile: SandboxProfile | undefined;
  /** The filtering proxy, when the profile has a network allow-list. */
  readonly network?: SandboxNetwork;
  /** The trace's `sandbox` start event, written once the trace opens (recordSandboxStart). */
  readonly start?: SandboxRecordData;
}

/** A sandbox's filtering proxy, as the session sees it. */
export interface SandboxNetwork {
  /** From now on each attempt is a network.send syscall of this kernel (before: refused). */
  attach(kernel: Kernel): void;
  close(): Promise<void>;
}

/**
 * The server's sandbox: its policy table (which turns the sandbox on by itself), else the
 * default profile under `--sandbox`, else none. Throws the one line that says what is
 * missing when the host cannot enforce a required sandbox; nothing has started then.
 */
export function sandboxSetup(
  policy: Policy,
  serverId: string,
  workspace: string,
  hidden: readonly string[],
  options: {
    readonly flag: boolean;
    readonly env: Readonly<Record<string, string>>;
    readonly quiet: boolean;
    readonly say: (line: string) => void;
    /** Where cgroup v2 is (default: the host's); tests give a fake tree. */
    readonly cgroups?: CgroupPaths;
  },
): SandboxSetup {
  const profile = policy.sandbox?.[serverId] ?? (options.flag ? DEFAULT_PROFILE : undefined);
  if (profile === undefined) return { plan: undefined, profile: undefined };
  const cgroups = options.cgroups ?? hostCgroupPaths();
  const host = detectHost(options.env.PATH, cgroups);
  const decision = planSandbox({
    profile,
    host,
    workspace,
    env: options.env,
    hidden,
    runtime: process.execPath,
  });
  if (decision.kind === 'refused') {
    throw new AgentkError('SANDBOX_UNAVAILABLE', `cannot sandbox the server: ${decision.reason}`);
  }
  if (decision.kind === 'unsandboxed') {
    // Said even with --quiet: the operator asked for a sandbox and is not getting one.
    options.say(`NOT sandboxed (best-effort): ${decision.reason}`);
    const start = startRecord(serverId, profile, host, {
      state: 'unsandboxed',
      reason: decision.reason,
    });
    return { plan: undefined, profile, start };
  }
  const { cgroup, problem } = sandboxCgroup(host, profile, cgroups);
  if (!options.quiet) options.say(`sandboxed: ${profileSummary(profile)}`);
  for (const note of decision.notes) {
    // As root, RLIMIT_NPROC does not hold; a cgroup's pids.max does.
    options.say(
      `sandbox: ${cgroup ? `${note}; the sandbox's cgroup pids.max holds instead` : note}`,
    );
  }
  if (problem !== null && host.cgroup.delegated) options.say(`sandbox: no cgroup: ${problem}`);
  const start = startRecord(serverId, profile, host, {
    state: 'sandboxed',
    cgroup,
    cgroupProblem: problem,
  });
  const plan = cgroup ? { ...decision.plan, cgroup } : decision.plan;
  return { plan, profile, start };
}

/**
 * The sandbox's own cgroup where the host delegates one (besides the rlimits, which hold
 * either way), or why not. A delegated host whose group cannot be made is said, not fatal.
 */
function sandboxCgroup(
  host: HostSupport,
  profile: SandboxProfile,
  paths: CgroupPaths,
): { cgroup: SandboxCgroup | null; problem: string | null } {
  if (!host.cgroup.delegated) return { cgroup: null, problem: null };
  try {
    const name = String(process.pid);
    return {
      cgroup: makeSandboxCgroup(paths, host.cgroup, name, profile.limits),
      problem: null,
    };
  } catch (error) {
    return { cgroup: null, problem: (error as Error).message };
  }
}

/** Once the trace is open: the sandbox's start event (the profile, what is enforced). */
export function recordSandboxStart(setup: SandboxSetup, kernel: Kernel): void {
  if (setup.start !== undefined) kernel.recordSandbox(setup.start);
}

/**
 * When the sandboxed server's process has ended: the limit it hit (its exit status, its
 * stderr, its cgroup's counters), recorded as a `sandbox` limit event while the trace is
 * open, or null. Its cgroup is removed.
 */
export function sandboxEnded(
  setup: SandboxSetup,
  kernel: Kernel,
  exit: { readonly code: number | null },
  stderrTail: readonly string[],
): LimitHit | null {
  const plan = setup.plan;
  if (plan === undefined) return null;
  const counts = plan.cgroup ? cgroupHits(plan.cgroup) : null;
  if (plan.cgroup) removeSandboxCgroup(plan.cgroup);
  const hit = limitHit(exit.code, plan.profile.limits, stderrTail, counts);
  const serverId = setup.start?.server_id;
  if (hit !== null && serverId !== undefined && !kernel.closed) {
    kernel.recordSandbox(limitRecord(serverId, hit));
  }
  return hit;
}

/**
 * The setup with its filtering proxy listening, for a profile with a network allow-list
 * (otherwise as it is). Opened before the trace, like the rest of the sandbox: a proxy
 * that cannot listen stops everything. Until attach() gives it the kernel, every attempt
 * is refused (the server has not started then).
 */
export async function withSandboxNetwork(
  setup: SandboxSetup,
  serverId: string,
): Promise<SandboxSetup> {
  const plan = setup.plan;
  if (plan === undefined || plan.profile.network.length === 0) return setup;
  let kernel: Kernel | null = null;
  let egress: EgressProxy;
  try {
    egress = await EgressProxy.open({
      allow: plan.profile.network,
      record: (attempt) => {
        if (kernel === null) throw new Error('no kernel yet');
        return recordAttempt(kernel, serverId, attempt);
      },
    });
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new AgentkError(
      'SANDBOX_UNAVAILABLE',
      `cannot sandbox the server: its network proxy did not start (${why})`,
    );
  }
  return {
    ...setup,
    plan: { ...plan, network: { socket: egress.socketPath } },
    network: {
      attach: (given) => {
        kernel = given;
      },
      close: () => egress.close(),
    },
  };
}

/**
 * One attempt as a network.send syscall: a refusal of the sandbox's is recorded as a deny
 * with its rule; an attempt the allow-list lets through is decided by the policy like
 * every syscall, and made durable before the connection is.
 */
function recordAttempt(kernel: Kernel, serverId: string, attempt: EgressAttempt): EgressVerdict {
  const result = kernel.syscall(
    {
      kind: 'network.send',
      target: attempt.target,
      method: attempt.method,
      intent: `the sandboxed server ${serverId} connects (through the sandbox's network proxy)`,
    },
    attempt.refusal ? { refusal: attempt.refusal } : {},
  );
  if (result.allowed) kernel.sync();
  return { allowed: result.allowed, rule: result.rule, reason: result.reason };
}
