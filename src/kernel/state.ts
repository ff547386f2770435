// What the analysis stage may read of the kernel's state (AnalysisState), assembled from
// the stages that own it. Read-only views: the stages change their state only as effects.

import type { CompiledPolicy } from '../policy/compile.js';
import type { AnalysisState } from './analysis/analysis.js';
import { normalPath } from './analysis/values.js';
import type { Catalogue } from './catalogue/catalogue.js';
import type { ContextStore } from './context/context.js';
import type { Approvals } from './decision/approvals.js';
import type { SecretVault } from './secrets/vault.js';

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
