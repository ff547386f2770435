// Policy documents: unknown (parsed TOML) -> typed AST, or every problem with its path.
// Structure is checked by a strict zod schema (unknown keys, wrong types, unknown labels,
// syscalls and sink classes); meaning is checked after: duplicate rule ids, empty lists,
// rules that can never fire (unsatisfiable or shadowed by an earlier rule), and the
// required final catch-all deny.
// Input distrusted: the whole document.

import * as z from 'zod';
import { describeValue, typeErrorMap, zodIssues } from '../config/document.js';
import { allLabelStates, LABELS, type Label, type LabelMask, labelBit } from '../labels/labels.js';
import {
  ALL_KINDS_MASK,
  ALL_SINKS,
  kindBit,
  POSSIBLE_SINKS,
  SINK_CLASSES,
  type SinkMask,
  SYSCALL_KINDS,
  sinkMaskOf,
} from '../vocabulary.js';
import { anchorsSchema, policyAnchors } from './anchors.js';
import { globToRegExp } from './glob.js';
import { sandboxProfiles, sandboxSchema } from './sandbox.js';
import { telemetryOf, telemetrySchema } from './telemetry.js';
import type {
  Policy,
  PolicyIssue,
  PolicyParseResult,
  PolicyRule,
  RuleConditions,
} from './types.js';
import { hasValueConditions, WORKSPACE_VARIABLE } from './values.js';

const MAX_PATTERN = 512;
const MAX_RULES = 1000;

const labelName = z.enum(LABELS, {
  error: (iss) =>
    typeof iss.input === 'string'
      ? `unknown label ${describeValue(iss.input)} (labels: ${LABELS.join(', ')})`
      : `expected a label name, got ${describeValue(iss.input)}`,
});
const syscallName = z.enum(SYSCALL_KINDS, {
  error: (iss) =>
    typeof iss.input === 'string'
      ? `unknown syscall ${describeValue(iss.input)}`
      : `expected a syscall name, got ${describeValue(iss.input)}`,
});
const sinkName = z.enum(SINK_CLASSES, {
  error: (iss) =>
    typeof iss.input === 'string'
      ? `unknown sink class ${describeValue(iss.input)} (sink classes: ${SINK_CLASSES.join(', ')})`
      : `expected a sink class, got ${describeValue(iss.input)}`,
});
const pattern = z
  .string()
  .min(1, 'pattern must not be empty')
  .max(MAX_PATTERN, `pattern longer than ${MAX_PATTERN} characters`);
/** A member name in a tool's JSON answer (`[labels.structure]`). */
const fieldName = z
  .string()
  .regex(/^[A-Za-z0-9_$.-]{1,64}$/, 'a field name is 1-64 of A-Z a-z 0-9 _ $ . -');
const capabilityPattern = pattern.refine(
  (value) => {
    const colon = value.indexOf(':');
    if (colon <= 0) return false;
    const kind = globToRegExp(value.slice(0, colon));
    return SYSCALL_KINDS.some((name) => kind.test(name));
  },
  { message: 'capability must be "<syscall>:<target pattern>" naming a known syscall' },
);

/** `/abs/**` or `${workspace}/...`: no `.`/`..` components, no other variables. */
const pathPattern = pattern.superRefine((value, ctx) => {
  const rest = value.startsWith(WORKSPACE_VARIABLE)
    ? value.slice(WORKSPACE_VARIABLE.length)
    : value;
  const problem =
    rest !== '' && !rest.startsWith('/')
      ? `a path pattern starts with "/" or "${WORKSPACE_VARIABLE}/"`
      : rest.includes('${')
        ? `the only variable a path pattern may use is ${WORKSPACE_VARIABLE}, at its start`
        : /\/\.{1,2}(?:\/|$)|\/\/|\0/.test(rest)
          ? 'a path pattern has no "." or ".." components and no "//"'
          : /\*\*[^/]|[^/]\*\*/.test(rest)
            ? '"**" stands alone as a path component'
            : rest.length > 1 && rest.endsWith('/')
              ? 'a path pattern does not end with "/" (write "dir/**" for what is below dir)'
              : null;
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});
const hostPattern = pattern.regex(
  /^[A-Za-z0-9*?.:_-]+$/,
  'a host pattern is a host name with * and ? (no scheme, port or path)',
);
const recipientPattern = pattern.regex(
  /^[^\s@]+@[^\s@]+$/,
  'a recipient pattern is an address with * and ? (e.g. "*@example.com")',
);
const amountRange = z
  .strictObject({
    min: z.number({ error: 'expected a number' }).finite().optional(),
    max: z.number({ error: 'expected a number' }).finite().optional(),
  })
  .refine((range) => range.min !== undefined || range.max !== undefined, {
    message: 'an amount range names min, max or both',
  })
  .refine((range) => (range.min ?? -Infinity) <= (range.max ?? Infinity), {
    message: 'min is greater than max: no amount matches',
  });
const argumentValues = z
  .record(
    z.string().regex(/^[A-Za-z0-9_$.-]{1,64}$/, 'an argument name is 1-64 of A-Z a-z 0-9 _ $ . -'),
    z
      .array(z.string().max(512, 'a value pattern is at most 512 characters'))
      .min(1, 'empty list: name at least one value'),
  )
  .refine((record) => Object.keys(record).length > 0, {
    message: 'empty table: name at least one argument',
  });

const whenSchema = z.strictObject({
  syscalls: z.array(syscallName).optional(),
  targets: z.array(pattern).optional(),
  sinks: z.array(sinkName).optional(),
  sinks_none: z.array(sinkName).optional(),
  labels_any: z.array(labelName).optional(),
  labels_all: z.array(labelName).optional(),
  labels_none: z.array(labelName).optional(),
  control_labels_any: z.array(labelName).optional(),
  control_labels_none: z.array(labelName).optional(),
  context_labels_any: z.array(labelName).optional(),
  context_labels_none: z.array(labelName).optional(),
  capability: z
    .enum(['present', 'missing'], {
      error: (iss) => `expected "present" or "missing", got ${describeValue(iss.input)}`,
    })
    .optional(),
  paths: z.array(pathPattern).optional(),
  paths_outside: z.array(pathPattern).optional(),
  hosts: z.array(hostPattern).optional(),
  hosts_outside: z.array(hostPattern).optional(),
  recipients: z.array(recipientPattern).optional(),
  recipients_outside: z.array(recipientPattern).optional(),
  amount: amountRange.optional(),
  arguments: argumentValues.optional(),
});

const ruleSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'rule id must be 1-128 of A-Z a-z 0-9 . _ : -')
    .refine((id) => !id.startsWith('kernel.'), {
      message: 'rule ids starting with "kernel." are reserved for the kernel\'s own refusals',
    }),
  effect: z.enum(['allow', 'deny', 'ask'], {
    error: (iss) => `expected "allow", "deny" or "ask", got ${describeValue(iss.input)}`,
  }),
  reason: z.string().min(1, 'reason must not be empty').max(1000),
  when: whenSchema.optional(),
});

const policySchema = z.strictObject({
  version: z.literal(1, { error: 'only version = 1 is supported' }).optional(),
  agent: z.strictObject({
    id: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
        'agent id must be 1-128 of A-Z a-z 0-9 . _ : -',
      ),
  }),
  labels: z
    .strictObject({
      sources: z.record(pattern, z.array(labelName)).optional(),
      structure: z.record(pattern, z.array(fieldName).min(1)).optional(),
    })
    .optional(),
  sinks: z
    .strictObject({
      read: z.array(pattern).optional(),
      write: z.array(pattern).optional(),
      exec: z.array(pattern).optional(),
      egress: z.array(pattern).optional(),
      destructive: z.array(pattern).optional(),
    })
    .optional(),
  capabilities: z.strictObject({ grant: z.array(capabilityPattern) }).optional(),
  discovery: z
    .strictObject({
      hide_always_denied: z.boolean({ error: 'expected true or false' }).optional(),
    })
    .optional(),
  telemetry: telemetrySchema.optional(),
  rules: z.array(ruleSchema).min(1, 'a policy needs at least one rule').max(MAX_RULES),
  anchors: anchorsSchema.optional(),
  sandbox: sandboxSchema.optional(),
});

type PolicyDocument = z.infer<typeof policySchema>;

/** Label, kind and sink conditions of a rule as masks (null = no condition). */
export interface RuleMasks {
  readonly kinds: number;
  readonly sinks: SinkMask | null;
  readonly sinksNone: SinkMask | null;
  readonly any: LabelMask | null;
  readonly all: LabelMask | null;
  readonly none: LabelMask | null;
  /** Conditions on the labels of control arguments only (targets, URLs, recipients, commands). */
  readonly controlAny: LabelMask | null;
  readonly controlNone: LabelMask | null;
  /** Conditions on the session's context label. */
  readonly contextAny: LabelMask | null;
  readonly contextNone: LabelMask | null;
}

export function ruleMasks(when: RuleConditions): RuleMasks {
  return {
    kinds: when.syscalls
      ? when.syscalls.reduce((mask, kind) => mask | kindBit(kind), 0)
      : ALL_KINDS_MASK,
    sinks: when.sinks ? sinkMaskOf(when.sinks) : null,
    sinksNone: when.sinks_none ? sinkMaskOf(when.sinks_none) : null,
    any: when.labels_any ? rawMask(when.labels_any) : null,
    all: when.labels_all ? rawMask(when.labels_all) : null,
    none: when.labels_none ? rawMask(when.labels_none) : null,
    controlAny: when.control_labels_any ? rawMask(when.control_labels_any) : null,
    controlNone: when.control_labels_none ? rawMask(when.control_labels_none) : null,
    contextAny: when.context_labels_any ? rawMask(when.context_labels_any) : null,
    contextNone: when.context_labels_none ? rawMask(when.context_labels_none) : null,
  };
}

export function contextMatch(masks: RuleMasks, context: LabelMask): boolean {
  if (masks.contextAny !== null && (context & masks.contextAny) === 0) return false;
  if (masks.contextNone !== null && (context & masks.contextNone) !== 0) return false;
  return true;
}

/**
 * Whether `e` matches in every session context `l` matches in (a sound approximation:
 * the static checks below never call a rule dead on account of a context it may not see).
 */
function contextCovers(e: RuleMasks, l: RuleMasks): boolean {
  if (e.contextAny !== null && (l.contextAny === null || (l.contextAny & ~e.contextAny) !== 0)) {
    return false;
  }
  if (
    e.contextNone !== null &&
    (l.contextNone === null || (e.contextNone & ~l.contextNone) !== 0)
  ) {
    return false;
  }
  return true;
}

function rawMask(labels: readonly Label[]): LabelMask {
  // Not normalised: a condition names exactly the labels it names.
  return labels.reduce((mask, label) => mask | labelBit(label), 0);
}

export function sinksMatch(masks: RuleMasks, sinks: SinkMask): boolean {
  if (masks.sinks !== null && (sinks & masks.sinks) === 0) return false;
  if (masks.sinksNone !== null && (sinks & masks.sinksNone) !== 0) return false;
  return true;
}

/** Every set of sink classes (for exhaustive reachability checks). */
const SINK_SETS: readonly SinkMask[] = Array.from({ length: ALL_SINKS + 1 }, (_, i) => i);

export function labelsMatch(masks: RuleMasks, labels: LabelMask, control: LabelMask): boolean {
  if (masks.any !== null && (labels & masks.any) === 0) return false;
  if (masks.all !== null && (labels & masks.all) !== masks.all) return false;
  if (masks.none !== null && (labels & masks.none) !== 0) return false;
  if (masks.controlAny !== null && (control & masks.controlAny) === 0) return false;
  if (masks.controlNone !== null && (control & masks.controlNone) !== 0) return false;
  return true;
}

const STATES = allLabelStates();

function possibleSinksOf(kinds: number): SinkMask {
  let mask = 0;
  SYSCALL_KINDS.forEach((kind, i) => {
    if (kinds & (1 << i)) mask |= POSSIBLE_SINKS[kind];
  });
  return mask;
}

/** Why a rule can never match anything, or undefined. */
function unsatisfiable(when: RuleConditions, masks: RuleMasks): string | undefined {
  if (!STATES.some(([labels, control]) => labelsMatch(masks, labels, control))) {
    return 'can never fire: no label set satisfies its label conditions (note: trusted never joins with untrusted, external or poisoned-suspect, and control labels are part of the labels)';
  }
  const possible = possibleSinksOf(masks.kinds);
  if (!SINK_SETS.some((sinks) => (sinks & ~possible) === 0 && sinksMatch(masks, sinks))) {
    return `can never fire: none of its syscalls can reach sinks ${JSON.stringify(when.sinks)} without ${JSON.stringify(when.sinks_none ?? [])}`;
  }
  return undefined;
}

/** True when `earlier` matches every request that `later` matches (a sound approximation). */
function covers(earlier: PolicyRule, e: RuleMasks, later: PolicyRule, l: RuleMasks): boolean {
  // Which values a condition on them lets through is not known here: only a rule without
  // one can shadow another.
  if (hasValueConditions(earlier.when)) return false;
  if ((l.kinds & ~e.kinds) !== 0 || !contextCovers(e, l)) return false;
  if (earlier.when.capability !== undefined && earlier.when.capability !== later.when.capability) {
    return false;
  }
  if (!SINK_SETS.every((sinks) => !sinksMatch(l, sinks) || sinksMatch(e, sinks))) return false;
  if (!targetsCover(earlier, later)) return false;
  return STATES.every(
    ([labels, control]) => !labelsMatch(l, labels, control) || labelsMatch(e, labels, control),
  );
}

/**
 * Whether earlier rules together match every request `later` matches (the rule can never
 * fire): an exhaustive walk of the cells it matches (syscall x sink set x label set x
 * capability), counting only earlier rules whose targets include all of its targets.
 * Returns the ids of the earlier rules involved, or null when some cell is left over.
 */
function coveredTogether(
  rules: readonly PolicyRule[],
  masks: readonly RuleMasks[],
  index: number,
): string[] | null {
  const later = rules[index] as PolicyRule;
  const l = masks[index] as RuleMasks;
  const candidates: number[] = [];
  for (let j = 0; j < index; j++) {
    if (hasValueConditions((rules[j] as PolicyRule).when)) continue;
    const covering = targetsCover(rules[j] as PolicyRule, later);
    if (covering && contextCovers(masks[j] as RuleMasks, l)) candidates.push(j);
  }
  if (candidates.length === 0) return null;
  const used = new Set<number>();
  const capabilities =
    later.when.capability === undefined ? [true, false] : [later.when.capability === 'present'];
  for (let k = 0; k < SYSCALL_KINDS.length; k++) {
    const bit = 1 << k;
    if ((l.kinds & bit) === 0) continue;
    const possible = POSSIBLE_SINKS[SYSCALL_KINDS[k] as (typeof SYSCALL_KINDS)[number]];
    for (const sinks of SINK_SETS) {
      if ((sinks & ~possible) !== 0 || !sinksMatch(l, sinks)) continue;
      for (const [labels, control] of STATES) {
        if (!labelsMatch(l, labels, control)) continue;
        for (const capability of capabilities) {
          const j = candidates.find((c) => {
            const rule = rules[c] as PolicyRule;
            const m = masks[c] as RuleMasks;
            return (
              (m.kinds & bit) !== 0 &&
              (rule.when.capability === undefined ||
                (rule.when.capability === 'present') === capability) &&
              sinksMatch(m, sinks) &&
              labelsMatch(m, labels, control)
            );
          });
          if (j === undefined) return null;
          used.add(j);
        }
      }
    }
  }
  return [...used].sort((a, b) => a - b).map((j) => (rules[j] as PolicyRule).id);
}

function targetsCover(earlier: PolicyRule, later: PolicyRule): boolean {
  const et = earlier.when.targets;
  if (et === undefined || et.includes('*')) return true;
  const lt = later.when.targets;
  return lt?.every((target) => et.includes(target)) === true;
}

function isCatchAll(rule: PolicyRule): boolean {
  return Object.values(rule.when).every((value) => value === undefined);
}

/** Parse a policy document (already decoded from TOML) into the typed AST. */
export function parsePolicy(document: unknown): PolicyParseResult {
  const parsed = policySchema.safeParse(document, { error: typeErrorMap() });
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) };
  const doc = parsed.data;
  const rules: PolicyRule[] = doc.rules.map((rule) => ({
    id: rule.id,
    effect: rule.effect,
    reason: rule.reason,
    when: Object.fromEntries(
      Object.entries(rule.when ?? {}).filter(([, value]) => value !== undefined),
    ) as RuleConditions,
  }));

  const issues = ruleIssues(rules);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, policy: policyOf(doc, rules) };
}

/**
 * What makes a rule list unusable: duplicate ids, empty lists, rules that can never match or
 * never fire behind earlier ones, and a missing final catch-all deny.
 */
function ruleIssues(rules: readonly PolicyRule[]): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const seen = new Map<string, number>();
  const masks = rules.map((rule) => ruleMasks(rule.when));
  rules.forEach((rule, i) => {
    const first = seen.get(rule.id);
    if (first !== undefined) {
      issues.push({
        path: `rules[${i}].id`,
        message: `duplicate rule id ${JSON.stringify(rule.id)} (first used at rules[${first}])`,
      });
    } else seen.set(rule.id, i);

    for (const [key, value] of Object.entries(rule.when)) {
      if (Array.isArray(value) && value.length === 0) {
        issues.push({
          path: `rules[${i}].when.${key}`,
          message: 'empty list: remove the key or name at least one value',
        });
      }
    }
    const ruleMask = masks[i] as RuleMasks;
    const never = unsatisfiable(rule.when, ruleMask);
    if (never !== undefined) {
      issues.push({ path: `rules[${i}]`, message: `rule ${JSON.stringify(rule.id)} ${never}` });
      return;
    }
    for (let j = 0; j < i; j++) {
      const earlier = rules[j] as PolicyRule;
      if (covers(earlier, masks[j] as RuleMasks, rule, ruleMask)) {
        issues.push({
          path: `rules[${i}]`,
          message: `rule ${JSON.stringify(rule.id)} can never fire: rules[${j}] (${JSON.stringify(earlier.id)}) matches everything it matches`,
        });
        return;
      }
    }
    // The final catch-all deny is required even where earlier rules leave nothing to it.
    if (i === rules.length - 1 && rule.effect === 'deny' && isCatchAll(rule)) return;
    const together = coveredTogether(rules, masks, i);
    if (together !== null) {
      issues.push({
        path: `rules[${i}]`,
        message: `rule ${JSON.stringify(rule.id)} can never fire: earlier rules ${together.map((id) => JSON.stringify(id)).join(', ')} together match everything it matches`,
      });
    }
  });

  const last = rules[rules.length - 1];
  if (last !== undefined && !(last.effect === 'deny' && isCatchAll(last))) {
    issues.push({
      path: `rules[${rules.length - 1}]`,
      message:
        'the policy must end with an explicit catch-all deny rule (effect = "deny" and no [rules.when])',
    });
  }

  return issues;
}

function policyOf(doc: PolicyDocument, rules: readonly PolicyRule[]): Policy {
  const sinks: Record<string, readonly string[]> = {};
  for (const [sink, patterns] of Object.entries(doc.sinks ?? {})) {
    if (patterns !== undefined) sinks[sink] = patterns;
  }
  return {
    version: 1,
    agent: { id: doc.agent.id },
    sources: Object.entries(doc.labels?.sources ?? {}).map(([sourcePattern, labels]) => ({
      pattern: sourcePattern,
      labels,
    })),
    structure: Object.entries(doc.labels?.structure ?? {}).map(([structurePattern, fields]) => ({
      pattern: structurePattern,
      fields,
    })),
    sinks,
    grants: doc.capabilities?.grant ?? [],
    hideAlwaysDenied: doc.discovery?.hide_always_denied ?? true,
    ...(doc.telemetry ? { telemetry: telemetryOf(doc.telemetry) } : {}),
    rules,
    ...(doc.anchors !== undefined ? { anchors: policyAnchors(doc.anchors) } : {}),
    ...(doc.sandbox !== undefined ? { sandbox: sandboxProfiles(doc.sandbox) } : {}),
  };
}
