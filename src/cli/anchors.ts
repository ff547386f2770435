// The CLI's side of anchored seals: where the policy's anchors are on this machine (paths
// resolved, headers' variables filled), and what the proxy says when it anchors a seal.

import { homedir } from 'node:os';
import { isAbsolute } from 'node:path';
import { expandVariables } from '../config/variables.js';
import {
  type AnchorOutcome,
  type AnchorTargets,
  anchorSeal,
  anchorSealOverHttp,
  type HttpAnchor,
} from '../evidence/anchors.js';
import { resolveAnchors } from '../policy/anchors.js';
import type { Policy } from '../policy/types.js';
import type { SealEvent } from '../recorder/event.js';

export interface AllAnchors extends AnchorTargets {
  readonly http: readonly HttpAnchor[];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The policy's anchors with `~/` resolved and the services' headers filled from `env`, or
 * null when it names none. A header naming an unset variable throws (one line, naming it).
 */
export function policyAnchorTargets(policy: Policy, env: Env): AllAnchors | null {
  const anchors = policy.anchors;
  if (anchors === undefined) return null;
  if (anchors.files.length + anchors.git.length + anchors.http.length === 0) return null;
  const home = env.HOME !== undefined && isAbsolute(env.HOME) ? env.HOME : homedir();
  const resolved = resolveAnchors(anchors, home);
  const headers: Record<string, string> = {};
  for (const [name, template] of Object.entries(anchors.headers)) {
    headers[name] = expandVariables(template, env, `[anchors] header ${name}`);
  }
  return { ...resolved, http: anchors.http.map((url) => ({ url, headers })) };
}

/**
 * Anchor a session's seal where the policy says. A failure is always said (the log is
 * sealed, but not anchored there); success only to `report` (null when quiet).
 */
export async function anchorSessionSeal(
  seal: SealEvent | null,
  policy: Policy,
  env: Env,
  report: ((line: string) => void) | null,
  warn: (line: string) => void,
): Promise<void> {
  if (seal === null || policy.anchors === undefined) return;
  let targets: AllAnchors | null;
  try {
    targets = policyAnchorTargets(policy, env);
  } catch (error) {
    warn(`the seal was NOT anchored: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  if (targets === null) return;
  const outcomes: AnchorOutcome[] = [
    ...anchorSeal(seal, targets),
    ...(await anchorSealOverHttp(seal, targets.http)),
  ];
  for (const outcome of outcomes) {
    if (outcome.ok) report?.(`seal ${outcome.detail}`);
    else warn(`the seal was NOT anchored in ${outcome.target}: ${outcome.detail}`);
  }
}
