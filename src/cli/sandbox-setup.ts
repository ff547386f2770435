// `--sandbox` and `[sandbox.<server-id>]` for the proxy command: which profile applies,
// whether this host can enforce it (fail closed, or best-effort said aloud), and what a
// sandboxed server's death says about its limits.

import { AgentkError } from '../errors.js';
import type { Policy } from '../policy/types.js';
import type { SandboxPlan } from '../sandbox/argv.js';
import { detectHost } from '../sandbox/host.js';
import { limitHit, planSandbox } from '../sandbox/plan.js';
import { DEFAULT_PROFILE, profileSummary, type SandboxProfile } from '../sandbox/profile.js';

export interface SandboxSetup {
  readonly plan: SandboxPlan | undefined;
  readonly profile: SandboxProfile | undefined;
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
  },
): SandboxSetup {
  const profile = policy.sandbox?.[serverId] ?? (options.flag ? DEFAULT_PROFILE : undefined);
  if (profile === undefined) return { plan: undefined, profile: undefined };
  const decision = planSandbox({
    profile,
    host: detectHost(options.env.PATH),
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
    return { plan: undefined, profile };
  }
  if (!options.quiet) options.say(`sandboxed: ${profileSummary(profile)}`);
  for (const note of decision.notes) options.say(`sandbox: ${note}`);
  return { plan: decision.plan, profile };
}

/** The line that names the limit a sandboxed server died of, or null. */
export function sandboxDeathLine(
  setup: SandboxSetup,
  exit: { readonly code: number | null } | null,
  stderrTail: readonly string[],
): string | null {
  if (setup.plan === undefined || exit === null) return null;
  return limitHit(exit.code, setup.plan.profile.limits, stderrTail);
}
