// A validated policy compiled for the hot path: every rule becomes bitmask tests plus one
// anchored regular expression for its targets, so a decision is a short loop of integer
// operations. First match wins; parsePolicy() guarantees the last rule matches everything.

import {
  allLabelStates,
  LABELS,
  type LabelMask,
  labelBit,
  normalizeMask,
} from '../labels/labels.js';
import { memoized } from '../memo.js';
import {
  kindBit,
  SINK_CLASSES,
  SINK_EGRESS,
  SINK_READ,
  SINK_WRITE,
  type SinkMask,
  type SyscallKind,
  sinkBit,
  UNCLASSIFIED_SINKS,
} from '../vocabulary.js';
import { compileGlobs } from './glob.js';
import { contextMatch, labelsMatch, type RuleMasks, ruleMasks, sinksMatch } from './parse.js';
import { heuristicSinks } from './sinks.js';
import type { Policy, PolicyRule } from './types.js';
import {
  type ArgumentValues,
  compileValueConditions,
  namedArguments,
  type ValueConditions,
  type ValueWorld,
} from './values.js';

/** Everything a rule can look at. The kernel computes it; the policy never sees raw data. */
export interface DecisionInput {
  readonly kind: SyscallKind;
  readonly target: string;
  readonly labels: LabelMask;
  /** Labels of the control arguments alone (a subset of `labels`). */
  readonly control: LabelMask;
  readonly sinks: SinkMask;
  /** Whether the capability `<kind>:<target>` is granted. */
  readonly capability: boolean;
  /** The session's context label (the join of every page in the agent's context). */
  readonly context?: LabelMask;
  /**
   * The values of the call's arguments by role, or a world that stands for them; absent:
   * not known (a recorded call from before values were recorded).
   */
  readonly values?: ArgumentValues | ValueWorld;
}

export interface RuleMatch {
  readonly rule: PolicyRule;
  readonly index: number;
}

interface CompiledRule {
  readonly rule: PolicyRule;
  readonly index: number;
  readonly masks: RuleMasks;
  readonly targets: ((target: string) => boolean) | null;
  readonly capability: boolean | null;
  readonly values: ValueConditions | null;
}

type Matcher = (value: string) => boolean;

const LABEL_STATES = allLabelStates();

export class CompiledPolicy {
  readonly policy: Policy;
  readonly #rules: readonly CompiledRule[];
  readonly #sourceMatchers: readonly (readonly [LabelMask, Matcher])[];
  readonly #sinkMatchers: readonly (readonly [SinkMask, Matcher])[];
  readonly #grants: Matcher;
  readonly #structure: readonly (readonly [ReadonlySet<string>, Matcher])[];
  /** Arguments some rule names (`[rules.when.arguments]`), for fork-replay. */
  readonly argumentNames: readonly string[];
  /** Whether some rule looks at argument values. */
  get seesValues(): boolean {
    return this.#rules.some((rule) => rule.values !== null);
  }

  constructor(policy: Policy) {
    this.policy = policy;
    this.#rules = policy.rules.map((rule, index) => ({
      rule,
      index,
      masks: ruleMasks(rule.when),
      targets: rule.when.targets ? compileGlobs(rule.when.targets) : null,
      capability: rule.when.capability === undefined ? null : rule.when.capability === 'present',
      values: compileValueConditions(rule.when, rule.effect),
    }));
    this.argumentNames = namedArguments(policy.rules);
    this.#sourceMatchers = LABELS.flatMap((label) => {
      const patterns = policy.sources
        .filter((source) => source.labels.includes(label))
        .map((source) => source.pattern);
      return patterns.length > 0 ? [[labelBit(label), compileGlobs(patterns)] as const] : [];
    });
    this.#sinkMatchers = SINK_CLASSES.flatMap((sink) => {
      const patterns = policy.sinks[sink] ?? [];
      return patterns.length > 0 ? [[sinkBit(sink), compileGlobs(patterns)] as const] : [];
    });
    this.#grants = compileGlobs(policy.grants);
    this.#structure = (policy.structure ?? []).map(
      (rule) => [new Set(rule.fields), compileGlobs([rule.pattern])] as const,
    );
  }

  /**
   * The arguments rules that may apply to `target` name (`[rules.when.arguments]`): the
   * kernel reads and records those of a call to it, and no other tool's.
   */
  readonly argumentNamesFor: (target: string) => readonly string[] = memoized((target) => {
    const names = new Set<string>();
    for (const { rule, targets } of this.#rules) {
      if (rule.when.arguments === undefined || (targets !== null && !targets(target))) continue;
      for (const name of Object.keys(rule.when.arguments)) names.add(name);
    }
    return [...names].sort();
  });

  /** The fields `[labels.structure]` names for answers from `source` (joined), or null. */
  readonly structureFields: (source: string) => ReadonlySet<string> | null = memoized((source) => {
    const fields = new Set<string>();
    for (const [names, matches] of this.#structure) {
      if (matches(source)) for (const name of names) fields.add(name);
    }
    return fields.size > 0 ? fields : null;
  });

  get agentId(): string {
    return this.policy.agent.id;
  }

  /** The first rule that matches. Total: the final rule is a catch-all. */
  decide(input: DecisionInput): RuleMatch {
    const bit = kindBit(input.kind);
    for (const compiled of this.#rules) {
      const { masks } = compiled;
      if ((masks.kinds & bit) === 0) continue;
      if (compiled.capability !== null && compiled.capability !== input.capability) continue;
      if (!sinksMatch(masks, input.sinks)) continue;
      if (!labelsMatch(masks, input.labels, input.control)) continue;
      if (!contextMatch(masks, input.context ?? 0)) continue;
      if (compiled.targets !== null && !compiled.targets(input.target)) continue;
      if (compiled.values !== null && !compiled.values(input.values ?? 'unknown')) continue;
      return compiled;
    }
    // Unreachable for a parsed policy; fail closed anyway.
    const last = this.#rules[this.#rules.length - 1] as CompiledRule;
    return { rule: { ...last.rule, effect: 'deny' }, index: last.index };
  }

  /** Labels the policy attaches to content from `source` (joined over matching patterns). */
  readonly sourceLabels: (source: string) => LabelMask = memoized((source) => {
    let mask = 0;
    for (const [bits, matches] of this.#sourceMatchers) if (matches(source)) mask |= bits;
    return normalizeMask(mask);
  });

  /** The sink classes the policy's own `[sinks]` patterns give a target, or null if none match. */
  readonly patternSinks: (target: string) => SinkMask | null = memoized((target) => {
    let mask = 0;
    for (const [bits, matches] of this.#sinkMatchers) if (matches(target)) mask |= bits;
    return mask === 0 ? null : mask;
  });

  /**
   * Sink classes of a syscall: fixed per kind, or, for tool-like targets, the policy's
   * patterns; failing those, the tool's MCP annotations joined with its name heuristics;
   * failing those, the most sensitive plausible classes.
   */
  classifySinks(kind: SyscallKind, target: string, annotated: SinkMask = 0): SinkMask {
    return this.explainSinks(kind, target, annotated).sinks;
  }

  explainSinks(
    kind: SyscallKind,
    target: string,
    annotated: SinkMask = 0,
  ): {
    sinks: SinkMask;
    by: 'kind' | 'policy' | 'descriptor and name' | 'default' | 'unclassified';
  } {
    switch (kind) {
      case 'network.send':
        return { sinks: SINK_EGRESS, by: 'kind' };
      case 'memory.write':
      case 'file.patch':
        return { sinks: SINK_WRITE, by: 'kind' };
      case 'tool.invoke':
      case 'resource.read':
      case 'prompt.get': {
        const patterns = this.patternSinks(target);
        if (patterns !== null) return { sinks: patterns, by: 'policy' };
        if (kind === 'tool.invoke') {
          const inferred = annotated | heuristicSinks(target);
          return inferred === 0
            ? { sinks: UNCLASSIFIED_SINKS, by: 'unclassified' }
            : { sinks: inferred, by: 'descriptor and name' };
        }
        // A resource on the open web is fetched from it: the request itself leaves the machine.
        if (kind === 'resource.read' && /^[^/]*\/(?:https?|wss?|ftp):/i.test(target)) {
          return { sinks: SINK_READ | SINK_EGRESS, by: 'default' };
        }
        return { sinks: SINK_READ, by: 'default' };
      }
      default:
        return { sinks: 0, by: 'kind' };
    }
  }

  /**
   * Whether the policy denies this syscall whatever labels and argument values it carries:
   * every pair of labels and control labels ends on a deny (no allow, no ask).
   */
  alwaysDenies(kind: SyscallKind, target: string, sinks: SinkMask, capability: boolean): boolean {
    for (const [labels, control] of LABEL_STATES) {
      const input = {
        kind,
        target,
        labels,
        control,
        sinks,
        capability,
        values: 'permissive' as const,
      };
      if (this.decide(input).rule.effect !== 'deny') return false;
    }
    return true;
  }

  /** Whether the policy grants the capability `<kind>:<target>`. */
  grants(capability: string): boolean {
    return this.#grants(capability);
  }
}
