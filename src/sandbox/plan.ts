// Deciding, before anything starts, whether and how a server is sandboxed: the host's
// support against the profile's mode (fail closed, or best-effort), and the places the
// view must show or hide. (Reading a sandboxed server's death: limits.ts.)

import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { SandboxPlan } from './argv.js';
import type { HostSupport } from './host.js';
import type { SandboxProfile } from './profile.js';

export type SandboxDecision =
  | { readonly kind: 'sandboxed'; readonly plan: SandboxPlan; readonly notes: readonly string[] }
  /** best-effort on a host that cannot: run unsandboxed, and say why. */
  | { readonly kind: 'unsandboxed'; readonly reason: string }
  /** No server: the one line that says what is missing. */
  | { readonly kind: 'refused'; readonly reason: string };

export interface PlanInputs {
  readonly profile: SandboxProfile;
  readonly host: HostSupport;
  readonly workspace: string;
  readonly env: Readonly<Record<string, string>>;
  readonly hidden: readonly string[];
  readonly runtime: string;
}

const contains = (outer: string, inner: string) => {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** A problem of the profile against this machine's paths, or null. */
function viewProblem(inputs: PlanInputs): string | null {
  const { profile, workspace, env } = inputs;
  const home = env.HOME;
  if (profile.workspace !== 'none' && resolve(workspace) === '/') {
    return 'the workspace is / (everything): run in a project directory or set workspace = "none"';
  }
  if (profile.workspace !== 'none' && home !== undefined && isAbsolute(home)) {
    if (contains(workspace, resolve(home))) {
      return `the workspace ${workspace} holds the home directory, which the sandbox hides: run in a project directory or set workspace = "none"`;
    }
  }
  for (const path of [...profile.read, ...profile.write]) {
    if (!existsSync(path)) return `the sandbox path ${path} does not exist`;
    if (home !== undefined && isAbsolute(home) && contains(path, resolve(home))) {
      return `the sandbox path ${path} holds the home directory, which the sandbox hides`;
    }
  }
  return null;
}

/** Whether the server runs sandboxed, unsandboxed (best-effort, said), or not at all. */
export function planSandbox(inputs: PlanInputs): SandboxDecision {
  const { host, profile } = inputs;
  const problem = viewProblem(inputs);
  if (problem !== null) return { kind: 'refused', reason: problem };
  if (host.missing !== null || host.bwrap === null || host.prlimit === null) {
    const reason = host.missing ?? 'bubblewrap (bwrap) is not installed';
    return profile.mode === 'best-effort'
      ? { kind: 'unsandboxed', reason }
      : {
          kind: 'refused',
          reason: `${reason} (a profile with mode = "best-effort" runs it unsandboxed instead)`,
        };
  }
  const notes = host.root
    ? [
        `the process limit (${profile.limits.processes}) is not enforced: the kernel exempts uid 0 from RLIMIT_NPROC; run AgentK as a normal user`,
      ]
    : [];
  return {
    kind: 'sandboxed',
    notes,
    plan: {
      profile,
      bwrap: host.bwrap.path,
      prlimit: host.prlimit,
      workspace: inputs.workspace,
      home: inputs.env.HOME,
      path: inputs.env.PATH,
      hidden: inputs.hidden,
      runtime: inputs.runtime,
    },
  };
}
