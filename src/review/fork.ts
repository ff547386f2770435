// fork-replay: re-decide every recorded syscall of a verified log under another policy,
// from what the log recorded (kind, target, labels), with the new policy's sink
// classification and capability grants. Kernel refusals (`kernel.*`: malformed requests,
// unknown syscalls, missing stores) do not depend on policy and stay as they were.
// Limits: capabilities granted by embedding code at run time are not in the log, so the
// fork sees only the new policy's grants.

import { isLabel, joinMasks, type LabelMask, maskOf } from '../labels/labels.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { type ArgumentValues, NO_VALUES, VALUE_ROLES, type ValueRole } from '../policy/values.js';
import type { SyscallEvent } from '../recorder/event.js';
import { isSinkClass, isSyscallKind, sinkMaskOf } from '../vocabulary.js';
import { increment, type ReviewedLog, sortedCounts } from './log.js';

export interface Redecision {
  readonly effect: string;
  readonly rule: string;
}

export function decisionKey(decision: Redecision): string {
  return `${decision.effect}:${decision.rule}`;
}

export function recordedDecision(event: SyscallEvent): Redecision {
  return { effect: event.decision.effect, rule: event.decision.rule };
}

export function recordedLabels(event: SyscallEvent): LabelMask {
  return maskOf(event.syscall.labels.filter(isLabel));
}

/** The decision `policy` makes for a recorded syscall, with `extra` labels joined in. */
export function redecide(
  policy: CompiledPolicy,
  event: SyscallEvent,
  extra: LabelMask = 0,
): Redecision {
  const { kind, target } = event.syscall;
  if (event.decision.rule.startsWith('kernel.') || !isSyscallKind(kind))
    return recordedDecision(event);
  const labels = joinMasks(recordedLabels(event), extra);
  // What flows in by a fork is not known to stay out of the control arguments.
  const control = joinMasks(maskOf(event.syscall.control_labels.filter(isLabel)), extra);
  // The new policy's own patterns decide a tool's classes; otherwise what the run knew
  // (annotations, names, the diff's deletions) stands, as recorded.
  const sinks = policy.patternSinks(target) ?? sinkMaskOf(event.syscall.sinks.filter(isSinkClass));
  // The session context as recorded, with what the fork lets in.
  const recorded = event.syscall.detail?.context_labels;
  const context = joinMasks(
    maskOf((Array.isArray(recorded) ? recorded : []).filter(isLabel)),
    extra,
  );
  const match = policy.decide({
    kind,
    target,
    labels,
    control,
    sinks,
    capability: policy.grants(`${kind}:${target}`),
    context,
    values: recordedValues(event, policy),
  });
  return { effect: match.rule.effect, rule: match.rule.id };
}

/** Kinds whose calls carry argument values (kernel/analysis/values.ts). */
const VALUE_KINDS: ReadonlySet<string> = new Set([
  'tool.invoke',
  'resource.read',
  'prompt.get',
  'network.send',
  'file.patch',
]);

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** The strings of a recorded array (anything else in it, or a non-array, is left out). */
export const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/**
 * The argument values a recorded call carried (`detail.values`), as rules that see
 * arguments match them; `unknown` for a call recorded without them, and each argument the
 * policy names that the run did not read is a value nobody can be sure of.
 */
function recordedValues(event: SyscallEvent, policy: CompiledPolicy): ArgumentValues | 'unknown' {
  const recorded = event.syscall.detail?.values;
  if (!isRecord(recorded)) return VALUE_KINDS.has(event.syscall.kind) ? 'unknown' : NO_VALUES;
  const named = isRecord(recorded.arguments) ? recorded.arguments : {};
  const args: Record<string, readonly string[] | null> = {};
  for (const name of policy.argumentNames) {
    const value = Object.hasOwn(named, name) ? named[name] : undefined;
    args[name] = Array.isArray(value) ? strings(value) : null;
  }
  return {
    paths: strings(recorded.paths),
    hosts: strings(recorded.hosts),
    recipients: strings(recorded.recipients),
    amounts: Array.isArray(recorded.amounts)
      ? recorded.amounts.filter((item): item is number => typeof item === 'number')
      : [],
    arguments: args,
    unknown: strings(recorded.unknown).filter((role): role is ValueRole =>
      (VALUE_ROLES as readonly string[]).includes(role),
    ),
    workspace: strings(recorded.workspace),
  };
}

export interface DecisionChange {
  readonly step: number;
  readonly syscall: string;
  readonly target: string;
  readonly before: string;
  readonly after: string;
}

export interface ForkReplay {
  readonly log: string;
  readonly status: string;
  readonly policy: string;
  readonly events: number;
  readonly changes: readonly DecisionChange[];
  /** `before->after` -> count, in a stable order. */
  readonly summary: Record<string, number>;
}

export function summarizeChanges(changes: readonly DecisionChange[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const change of changes) increment(counts, `${change.before}->${change.after}`);
  return Object.fromEntries(sortedCounts(counts));
}

export function forkReplay(
  log: ReviewedLog,
  policy: CompiledPolicy,
  policyPath: string,
): ForkReplay {
  const changes: DecisionChange[] = [];
  for (const event of log.events) {
    const before = decisionKey(recordedDecision(event));
    const after = decisionKey(redecide(policy, event));
    if (before !== after) {
      changes.push({
        step: event.step,
        syscall: event.syscall.kind,
        target: event.syscall.target,
        before,
        after,
      });
    }
  }
  return {
    log: log.path,
    status: log.status,
    policy: policyPath,
    events: log.events.length,
    changes,
    summary: summarizeChanges(changes),
  };
}
