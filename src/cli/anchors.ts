// The CLI's side of anchored seals: where the policy's anchors are on this machine, and
// what the proxy says when it anchors a session's seal.

import { homedir } from 'node:os';
import { isAbsolute } from 'node:path';
import { type AnchorTargets, anchorSeal } from '../evidence/anchors.js';
import { resolveAnchors } from '../policy/anchors.js';
import type { Policy } from '../policy/types.js';
import type { SealEvent } from '../recorder/event.js';

/** The policy's anchors with `~/` resolved, or null when it names none. */
export function policyAnchorTargets(
  policy: Policy,
  env: Readonly<Record<string, string | undefined>>,
): AnchorTargets | null {
  const anchors = policy.anchors;
  if (anchors === undefined || anchors.files.length + anchors.git.length === 0) return null;
  const home = env.HOME !== undefined && isAbsolute(env.HOME) ? env.HOME : homedir();
  return resolveAnchors(anchors, home);
}

/**
 * Anchor a session's seal where the policy says. A failure is always said (the log is
 * sealed, but not anchored there); success only to `report` (null when quiet).
 */
export function anchorSessionSeal(
  seal: SealEvent | null,
  policy: Policy,
  env: Readonly<Record<string, string | undefined>>,
  report: ((line: string) => void) | null,
  warn: (line: string) => void,
): void {
  const targets = policyAnchorTargets(policy, env);
  if (seal === null || targets === null) return;
  for (const outcome of anchorSeal(seal, targets)) {
    if (outcome.ok) report?.(`seal ${outcome.detail}`);
    else warn(`the seal was NOT anchored in ${outcome.target}: ${outcome.detail}`);
  }
}
