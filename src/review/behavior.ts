// fork-replay-behavior: "what if a model or tool had behaved differently?" A behaviour
// file overrides the outputs of chosen side-effect steps by hash (never raw text), with
// the labels the different output would have carried and the later steps it flows into.
// The fork joins those labels into the acting agent's context from that step on (seen by
// syscalls that carry the context label: model.call, memory.write, agent.spawn, and by its
// children) and into each step listed in `flows_to`, re-decides every syscall, and reports
// where decisions diverge. Labels only rise in a fork: it answers whether the policy still
// holds if behaviour gets worse, not what a cleaner run would have been allowed.
// Input distrusted: the behaviour file.

import * as z from 'zod';
import {
  type ConfigIssue,
  invalidDocument,
  readConfigText,
  typeErrorMap,
  zodIssues,
} from '../config/document.js';
import { AgentkError } from '../errors.js';
import { joinMasks, LABELS, type LabelMask, labelsOf, maskOf } from '../labels/labels.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { SYSCALL_KINDS } from '../vocabulary.js';
import {
  type DecisionChange,
  decisionKey,
  recordedDecision,
  recordedLabels,
  redecide,
  summarizeChanges,
} from './fork.js';
import type { ReviewedLog } from './log.js';
import { hasStubOutput, SIDE_EFFECT_KINDS, stubOutputHash } from './replay.js';

const MAX_BEHAVIOR_BYTES = 256 * 1024;
const CONTEXT_KINDS = new Set(['model.call', 'memory.write', 'agent.spawn']);

export interface BehaviorOverride {
  readonly step: number;
  readonly syscall: string;
  readonly output_sha256: string;
  readonly labels: readonly (typeof LABELS)[number][];
  readonly flows_to: readonly number[];
}

export interface BehaviorFile {
  readonly version: 1;
  readonly description?: string;
  readonly overrides: readonly BehaviorOverride[];
}

const RAW_OUTPUT = 'raw outputs are never accepted: give output_sha256 (the SHA-256 of the output)';

const overrideSchema = z
  .object({
    step: z.number().int('step must be an integer').positive('step must be positive'),
    syscall: z.enum(SYSCALL_KINDS, { error: 'syscall must be a syscall name' }),
    output_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, `output_sha256 must be 64 lowercase hex digits; ${RAW_OUTPUT}`),
    labels: z.array(z.enum(LABELS, { error: 'unknown label' })).default([]),
    flows_to: z.array(z.number().int().positive()).default([]),
  })
  .strict();

const behaviorSchema = z.strictObject({
  version: z.literal(1, { error: 'only version 1 is supported' }),
  description: z.string().max(1000).optional(),
  overrides: z.array(overrideSchema).min(1, 'at least one override is needed'),
});

export function parseBehavior(
  value: unknown,
): { ok: true; behavior: BehaviorFile } | { ok: false; issues: ConfigIssue[] } {
  const parsed = behaviorSchema.safeParse(value, { error: typeErrorMap(false) });
  if (!parsed.success) {
    // An unexpected key on an override is most likely an attempt to pass output text.
    const issues = zodIssues(parsed.error).map((issue) =>
      /^overrides\[\d+\]\.[^.[]+$/.test(issue.path) && issue.message === 'unknown key'
        ? { ...issue, message: `unknown key (${RAW_OUTPUT})` }
        : issue,
    );
    return { ok: false, issues };
  }
  const issues: ConfigIssue[] = [];
  const seen = new Map<number, number>();
  parsed.data.overrides.forEach((override, i) => {
    const first = seen.get(override.step);
    if (first !== undefined) {
      issues.push({
        path: `overrides[${i}].step`,
        message: `duplicate step ${override.step} (first at overrides[${first}])`,
      });
    } else seen.set(override.step, i);
    override.flows_to.forEach((step, j) => {
      if (step <= override.step) {
        issues.push({
          path: `overrides[${i}].flows_to[${j}]`,
          message: `step ${step} is not after step ${override.step}`,
        });
      }
    });
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, behavior: parsed.data as BehaviorFile };
}

export function loadBehavior(path: string): BehaviorFile {
  const text = readConfigText(path, 'behaviour file', MAX_BEHAVIOR_BYTES);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AgentkError('MANIFEST_INVALID', `${path}: not valid JSON`);
  }
  const result = parseBehavior(value);
  if (!result.ok) invalidDocument('MANIFEST_INVALID', path, result.issues);
  return result.behavior;
}

export interface BehaviorFork {
  readonly log: string;
  readonly status: string;
  readonly behavior: string;
  readonly policy: string;
  readonly overrides: readonly {
    readonly step: number;
    readonly syscall: string;
    readonly stub_output_sha256: string;
    readonly output_sha256: string;
  }[];
  readonly first_divergence: number | null;
  readonly changes: readonly (DecisionChange & { readonly added_labels: readonly string[] })[];
  readonly summary: Record<string, number>;
}

type LogEvent = ReviewedLog['events'][number];

/** What in the behaviour file does not fit the log: a problem per line, with its index. */
function misfits(byStep: ReadonlyMap<number, LogEvent>, behavior: BehaviorFile): string[] {
  const problems: string[] = [];
  behavior.overrides.forEach((override, i) => {
    const event = byStep.get(override.step);
    if (!event) problems.push(`overrides[${i}]: the log has no syscall at step ${override.step}`);
    else if (event.syscall.kind !== override.syscall) {
      problems.push(
        `overrides[${i}]: step ${override.step} is ${event.syscall.kind}, not ${override.syscall}`,
      );
    } else if (!hasStubOutput(event)) {
      problems.push(
        `overrides[${i}]: step ${override.step} produced no output to override (only allowed ${SIDE_EFFECT_KINDS.join(', ')} do)`,
      );
    }
    for (const step of override.flows_to) {
      if (!byStep.has(step))
        problems.push(`overrides[${i}]: flows_to names step ${step}, which the log does not have`);
    }
  });
  return problems;
}

/**
 * Re-decide every event with the labels the changed outputs add: those that flow to it
 * directly, and, for syscalls that act on the context, the agent's context as the fork
 * changed it (a child spawned inherits its parent's).
 */
function divergences(
  log: ReviewedLog,
  behavior: BehaviorFile,
  byStep: ReadonlyMap<number, LogEvent>,
  policy: CompiledPolicy,
): (DecisionChange & { added_labels: string[] })[] {
  const flowLabels = new Map<number, LabelMask>();
  const contextFrom = new Map<number, { agent: string; labels: LabelMask }>();
  for (const override of behavior.overrides) {
    const labels = maskOf(override.labels);
    for (const step of override.flows_to)
      flowLabels.set(step, joinMasks(flowLabels.get(step) ?? 0, labels));
    contextFrom.set(override.step, {
      agent: (byStep.get(override.step) as LogEvent).agent_id,
      labels,
    });
  }
  const context = new Map<string, LabelMask>();
  const changes: (DecisionChange & { added_labels: string[] })[] = [];
  for (const event of log.events) {
    const agent = event.agent_id;
    let extra = flowLabels.get(event.step) ?? 0;
    if (CONTEXT_KINDS.has(event.syscall.kind)) extra = joinMasks(extra, context.get(agent) ?? 0);
    const before = decisionKey(recordedDecision(event));
    const after = decisionKey(redecide(policy, event, extra));
    if (before !== after) {
      changes.push({
        step: event.step,
        syscall: event.syscall.kind,
        target: event.syscall.target,
        before,
        after,
        added_labels: [...labelsOf(extra & ~recordedLabels(event))],
      });
    }
    // The overridden output enters the agent's context after its own step.
    const entering = contextFrom.get(event.step);
    if (entering)
      context.set(entering.agent, joinMasks(context.get(entering.agent) ?? 0, entering.labels));
    // A child spawned now inherits whatever the fork added to its parent's context.
    const spawn = event.syscall.detail?.spawn as { child?: string } | undefined;
    if (
      event.syscall.kind === 'agent.spawn' &&
      event.decision.verdict === 'allow' &&
      spawn?.child
    ) {
      context.set(spawn.child, context.get(agent) ?? 0);
    }
  }
  return changes;
}

export function forkBehavior(
  log: ReviewedLog,
  behavior: BehaviorFile,
  behaviorPath: string,
  policy: CompiledPolicy,
  policyPath: string,
): BehaviorFork {
  const byStep = new Map(log.events.map((event) => [event.step, event]));
  const problems = misfits(byStep, behavior);
  if (problems.length > 0) {
    throw new AgentkError(
      'MANIFEST_INVALID',
      `${behaviorPath} does not fit ${log.path}`,
      problems.map((p) => `${behaviorPath}: ${p}`),
    );
  }
  const changes = divergences(log, behavior, byStep, policy);
  return {
    log: log.path,
    status: log.status,
    behavior: behaviorPath,
    policy: policyPath,
    overrides: behavior.overrides.map((override) => ({
      step: override.step,
      syscall: override.syscall,
      stub_output_sha256: stubOutputHash(byStep.get(override.step) as LogEvent),
      output_sha256: override.output_sha256,
    })),
    first_divergence: changes[0]?.step ?? null,
    changes,
    summary: summarizeChanges(changes),
  };
}
