// The decision stage: the policy decides what the analysis found (first matching rule), a
// shadow policy decides it too without enforcing anything, an `ask` is resolved by an
// approval given for this exact request or turned into a deny when nobody can be asked,
// and an allowed syscall that takes secret handles is held to their scope. A refusal from
// the analysis is a deny before the policy is consulted.

import { POISONED } from '../../labels/labels.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import { NO_VALUES } from '../../policy/values.js';
import type { SinkMask, SyscallKind, Verdict } from '../../vocabulary.js';
import type { Analysis } from '../analysis/analysis.js';
import { type Grant, grantScope } from './approvals.js';

/** What is being decided: the request as the kernel names it. */
export interface DecisionSubject {
  /** The agent that acts. */
  readonly agent: string;
  /** The syscall kind, or null for one the kernel does not know (denied by default). */
  readonly kind: SyscallKind | null;
  readonly target: string;
  /** `<kind>:<target>`, raw: what grants and handle scopes are matched against. */
  readonly capability: string;
  readonly capabilityGranted: boolean;
  readonly requestHash: string;
  /** The caller can put an ask to a person itself (an MCP client with elicitation). */
  readonly canAsk: boolean;
  /** When it is decided (milliseconds since the epoch): handles expire. */
  readonly now: number;
}

/** What the decision stage may consult. */
export interface DecisionContext {
  readonly policy: CompiledPolicy;
  readonly shadow: CompiledPolicy | undefined;
  /** Whether an approver callback can answer asks. */
  readonly hasApprover: boolean;
  /** The command that approves a request out of band (named in the denial). */
  approveCommand(requestHash: string): string;
  /** Spend a person's approval of this exact request (asked by `agent`), if there is one. */
  /** An approval of this request, or a session grant covering `scope` (grantScope). */
  takeApproval(requestHash: string, agent: string, scope: string, now: number): Grant | undefined;
  /** Why the syscall may not take these secret handles, or null. */
  handleProblem(
    handles: readonly string[],
    subject: DecisionSubject,
    sinks: SinkMask,
  ): string | null;
}

export interface Decision {
  /** What happened: an ask resolves to allow (approved) or stays ask, or becomes deny. */
  readonly verdict: Verdict;
  /** What the deciding rule said, before any approval. */
  readonly effect: Verdict;
  readonly rule: string;
  readonly reason: string;
  readonly shadow?: { readonly effect: Verdict; readonly rule: string };
  /** The request waits for a person's answer (it is recorded as pending). */
  readonly askPending: boolean;
  /** For an ask: what a session grant for it covers (approvals.ts grantScope). */
  readonly scope?: string;
}

/** Decide one syscall; an approval that allows it is noted in `analysis.detail`. */
export function decide(
  subject: DecisionSubject,
  analysis: Analysis,
  context: DecisionContext,
): Decision {
  const { kind } = subject;
  if (analysis.refusal || kind === null) {
    return {
      verdict: 'deny',
      effect: 'deny',
      rule: analysis.refusal?.rule ?? 'kernel.unknown-syscall',
      reason: analysis.refusal?.reason ?? 'unknown syscall',
      askPending: false,
    };
  }
  const input = {
    kind,
    target: subject.target,
    labels: analysis.labels,
    control: analysis.control,
    sinks: analysis.sinks,
    capability: subject.capabilityGranted,
    context: analysis.context,
    values: analysis.values ?? NO_VALUES,
  };
  const match = context.policy.decide(input);
  let shadow: Decision['shadow'];
  if (context.shadow) {
    const decided = context.shadow.decide({
      ...input,
      capability: context.shadow.grants(subject.capability),
    });
    shadow = { effect: decided.rule.effect, rule: decided.rule.id };
  }
  let verdict: Verdict = match.rule.effect;
  let rule = match.rule.id;
  let reason = match.rule.reason;
  let askPending = false;
  let scope: string | undefined;
  if (verdict === 'ask')
    ({ verdict, reason, askPending, scope } = ask(kind, subject, analysis, context, rule, reason));
  // A handle goes back only to a sink its scope allows, never to egress, never stale.
  if (verdict === 'allow' && analysis.handles.length > 0) {
    const problem = context.handleProblem(analysis.handles, subject, analysis.sinks);
    if (problem) {
      verdict = 'deny';
      rule = 'kernel.handle-out-of-scope';
      reason = `secret handle cannot be used here: ${problem}`;
    }
  }
  return {
    verdict,
    effect: match.rule.effect,
    rule,
    reason,
    askPending,
    ...(scope !== undefined ? { scope } : {}),
    ...(shadow ? { shadow } : {}),
  };
}

/** An `ask`: a person's approval or session grant allows it; else it waits (or is denied). */
function ask(
  kind: SyscallKind,
  subject: DecisionSubject,
  analysis: Analysis,
  context: DecisionContext,
  rule: string,
  reason: string,
): { verdict: Verdict; reason: string; askPending: boolean; scope: string } {
  const scope = grantScope({
    kind,
    target: subject.target,
    agent: subject.agent,
    rule,
    sinks: analysis.sinks,
    compromised: (analysis.context & POISONED) !== 0,
    controlRefs: analysis.controlRefs,
  });
  const approval = context.takeApproval(subject.requestHash, subject.agent, scope, subject.now);
  if (approval) {
    analysis.detail.approval = {
      approver: approval.approver,
      step: approval.step,
      ...(approval.session ? { scope: 'session' } : {}),
    };
    return {
      verdict: 'allow',
      reason: approval.session
        ? `${reason} (within the session grant ${approval.approver} gave at step ${approval.step})`
        : `${reason} (approved by ${approval.approver} at step ${approval.step})`,
      askPending: false,
      scope,
    };
  }
  if (context.hasApprover || subject.canAsk)
    return { verdict: 'ask', reason, askPending: true, scope };
  return {
    verdict: 'deny',
    reason: `${reason} (needs a person's approval and nobody can be asked here: allow it with a policy rule, or approve request ${subject.requestHash} with \`${context.approveCommand(subject.requestHash)}\` and retry)`,
    askPending: true,
    scope,
  };
}
