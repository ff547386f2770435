// policy-diff: the exhaustive difference between two policies over the finite space they
// decide: every syscall x every normalised (labels, control labels) pair x capability present/missing x every
// sink-class set the syscall can have x a representative of each target pattern either
// policy names (plus one target no pattern names). A cell is a difference when the two
// policies reach different effects; same-effect cells decided by differently named rules
// are counted apart.

import { allLabelStates, type LabelMask, labelsOf, POISONED, UNTRUSTED } from '../labels/labels.js';
import type { CompiledPolicy } from '../policy/compile.js';
import {
  ALL_SINKS,
  POSSIBLE_SINKS,
  SINK_DESTRUCTIVE,
  SINK_EGRESS,
  SINK_WRITE,
  type SinkMask,
  SYSCALL_KINDS,
  type SyscallKind,
  sinksOf,
} from '../vocabulary.js';
import { increment, sortedCounts } from './log.js';

/** Stands for "a target no pattern in either policy names". */
export const OTHER_TARGET = '\u0000other';

/**
 * Session contexts every cell is decided in: a clean session, and one that content reading
 * as an injection entered (rules may test it with context_labels_*).
 */
const CONTEXTS: readonly LabelMask[] = [0, POISONED | UNTRUSTED];

function withContexts(
  sets: readonly (readonly [LabelMask, LabelMask])[],
): [LabelMask, LabelMask, LabelMask][] {
  return sets.flatMap(([labels, control]) =>
    CONTEXTS.map((context): [LabelMask, LabelMask, LabelMask] => [labels, control, context]),
  );
}

export interface DiffCell {
  readonly syscall: SyscallKind;
  readonly target: string;
  readonly labels: readonly string[];
  readonly control_labels: readonly string[];
  /** The session context the cell assumes (a compromised session, or not). */
  readonly context_labels: readonly string[];
  readonly sinks: readonly string[];
  readonly capability: 'present' | 'missing';
  /**
   * When a policy has rules that see argument values: whether the call's values satisfy
   * every such condition (`match`) or none (`no-match`).
   */
  readonly values?: 'match' | 'no-match';
  readonly a: { readonly effect: string; readonly rule: string };
  readonly b: { readonly effect: string; readonly rule: string };
}

export interface PolicyDiff {
  readonly a: string;
  readonly b: string;
  readonly cells: number;
  readonly differences: readonly DiffCell[];
  readonly same_effect_other_rule: number;
  /** `syscall: a.effect:a.rule -> b.effect:b.rule` -> count. */
  readonly summary: Record<string, number>;
}

/** The sink sets a syscall of this kind can actually have. */
function sinkSets(kind: SyscallKind): SinkMask[] {
  switch (kind) {
    case 'network.send':
      return [SINK_EGRESS];
    case 'memory.write':
      return [SINK_WRITE];
    case 'file.patch':
      return [SINK_WRITE, SINK_WRITE | SINK_DESTRUCTIVE];
    default: {
      const possible = POSSIBLE_SINKS[kind];
      if (possible === 0) return [0];
      const sets: SinkMask[] = [];
      for (let set = 1; set <= ALL_SINKS; set++) if ((set & ~possible) === 0) sets.push(set);
      return sets;
    }
  }
}

/** A concrete target matching a glob pattern. */
function exampleOf(pattern: string): string {
  return pattern.replace(/[*?]/g, 'x');
}

function targetsFor(kind: SyscallKind, policies: readonly CompiledPolicy[]): string[] {
  const targets = new Set<string>([OTHER_TARGET]);
  for (const policy of policies) {
    for (const rule of policy.policy.rules) {
      const { syscalls, targets: patterns } = rule.when;
      if (patterns && (!syscalls || syscalls.includes(kind)))
        for (const p of patterns) targets.add(exampleOf(p));
    }
  }
  return [...targets];
}

/** Each target, in each values world (or in one, where neither policy looks at values). */
function cellsOf(
  targets: readonly string[],
  worlds: readonly ('match' | 'no-match')[] | null,
): [string, 'match' | 'no-match'][] {
  return targets.flatMap((target) =>
    (worlds ?? ['no-match' as const]).map((world): [string, 'match' | 'no-match'] => [
      target,
      world,
    ]),
  );
}

export function diffPolicies(
  a: CompiledPolicy,
  b: CompiledPolicy,
  aPath: string,
  bPath: string,
): PolicyDiff {
  const labelSets = allLabelStates();
  const differences: DiffCell[] = [];
  const summary = new Map<string, number>();
  let cells = 0;
  let sameEffectOtherRule = 0;
  // Values are not enumerable: a policy that looks at them is decided in two worlds.
  const worlds = a.seesValues || b.seesValues ? (['match', 'no-match'] as const) : null;
  for (const kind of SYSCALL_KINDS) {
    const targets = targetsFor(kind, [a, b]);
    for (const sinks of sinkSets(kind)) {
      for (const [labels, control, context] of withContexts(labelSets)) {
        for (const capability of [true, false]) {
          for (const [target, values] of cellsOf(targets, worlds)) {
            cells += 1;
            const input = { kind, target, labels, control, sinks, capability, context, values };
            const ra = a.decide(input).rule;
            const rb = b.decide(input).rule;
            if (ra.effect === rb.effect) {
              if (ra.id !== rb.id) sameEffectOtherRule += 1;
              continue;
            }
            differences.push({
              syscall: kind,
              target: target === OTHER_TARGET ? '<any other target>' : target,
              labels: labelsOf(labels),
              control_labels: labelsOf(control),
              context_labels: labelsOf(context),
              sinks: sinksOf(sinks),
              capability: capability ? 'present' : 'missing',
              ...(worlds !== null ? { values } : {}),
              a: { effect: ra.effect, rule: ra.id },
              b: { effect: rb.effect, rule: rb.id },
            });
            increment(summary, `${kind}: ${ra.effect}:${ra.id} -> ${rb.effect}:${rb.id}`);
          }
        }
      }
    }
  }
  return {
    a: aPath,
    b: bPath,
    cells,
    differences,
    same_effect_other_rule: sameEffectOtherRule,
    summary: Object.fromEntries(sortedCounts(summary)),
  };
}
