// fork-replay: re-decide every recorded syscall of a verified log under another policy,
// from what the log recorded (kind, target, labels), with the new policy's sink
// classification and capability grants. Kernel refusals (`kernel.*`: malformed requests,
// unknown syscalls, missing stores) do not depend on policy and stay as they were.
// Limits: capabilities granted by embedding code at run time are not in the log, so the
// fork sees only the new policy's grants.

import { isLabel, joinMasks, type LabelMask, maskOf } from '../labels/labels.js';
import type { CompiledPolicy } from '../policy/compile.js';
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
  });
  return { effect: match.rule.effect, rule: match.rule.id };
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
