// What the analysis stage may read of the kernel's state (AnalysisState), and what the
// decision stage may read and spend (DecisionContext), assembled from the stages that own
// it. Views: the stages change their state only as effects (an approval is spent as it is
// taken, and recorded as its own syscall).

import type { CompiledPolicy } from '../policy/compile.js';
import type { AnalysisState } from './analysis/analysis.js';
import { normalPath } from './analysis/values.js';
import type { Catalogue } from './catalogue/catalogue.js';
import type { ContextStore } from './context/context.js';
import type { Approvals } from './decision/approvals.js';
import type { DecisionContext } from './decision/decide.js';
import type { SecretVault } from './secrets/vault.js';
import type { ApprovalAnswer } from './types.js';

export interface StateParts {
  readonly policy: CompiledPolicy;
  readonly shadow: CompiledPolicy | undefined;
  readonly context: ContextStore;
  readonly vault: SecretVault;
  readonly approvals: Approvals;
  readonly catalogue: Catalogue;
  readonly granted: (capability: string) => boolean;
  /** The server's working directory (relative paths in arguments resolve against it). */
  readonly cwd: string | undefined;
  readonly protectedPaths: readonly string[] | undefined;
}

export function analysisState(parts: StateParts): AnalysisState {
  const { context, vault, approvals, catalogue } = parts;
  return {
    policy: parts.policy,
    page: (id) => context.page(id),
    memory: (key) => context.memory(key),
    hasAgent: (id) => context.hasAgent(id),
    lookupValues: (text, strict, command) => context.lookupValues(text, strict, command),
    get unindexedLabels() {
      return context.unindexedLabels;
    },
    handleLabels: (id) => vault.handle(id)?.labels,
    hasSecret: (target) => vault.storeFor(target) !== undefined,
    pendingAsk: (hash) => approvals.pendingAsk(hash),
    granted: parts.granted,
    annotatedSinks: (target) => catalogue.annotatedSinks(target),
    workspace: {
      get roots() {
        return context.roots;
      },
      cwd: parts.cwd ?? null,
    },
    argumentNames: (target) => {
      const own = parts.policy.argumentNamesFor(target);
      const shadow = parts.shadow?.argumentNamesFor(target) ?? [];
      return shadow.length === 0 ? own : [...new Set([...own, ...shadow])].sort();
    },
    protectedPaths: (parts.protectedPaths ?? [])
      .filter((path) => path.startsWith('/'))
      .map(normalPath),
  };
}

/**
 * The decision stage's view: the policies, the approval channel (`approve` records a
 * person's answer, for `agent`, as a human.approve syscall) and the secret handles' scope.
 */
export function decisionContext(
  parts: StateParts,
  hasApprover: boolean,
  approve: (requestHash: string, answer: ApprovalAnswer, agent: string) => void,
): DecisionContext {
  const { vault, approvals, catalogue } = parts;
  return {
    policy: parts.policy,
    shadow: parts.shadow,
    hasApprover,
    approveCommand: (hash) => approvals.command(hash),
    takeApproval: (hash, agent, scope, now) =>
      approvals.take(hash, (answer) => approve(hash, answer, agent), scope, now),
    handleProblem: (handles, subject, sinks) =>
      vault.problem(
        handles,
        subject.capability,
        sinks,
        catalogue.isSuspect(subject.target),
        subject.now,
      ),
  };
}
