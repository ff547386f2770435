// `agentk why`: a refused step of a verified log in words (the syscall, its target, the
// rule and its reason, the conditions of the rule it met, and the pages its tainted
// arguments came from), and what would change it: a policy rule that allows exactly this
// action, checked here by re-deciding the step under the policy the run used with the
// rule added (review/fork.ts, as fork-replay does), and for an `ask` the one-off approval.
// No rule is suggested that would copy a value holding a wildcard (`*`, `?`): policy
// patterns have no escape, so it would allow more than the call.
// Refusals no policy should lift casually (secrets into context, private data out, a shell
// steered by a page) say so.
// Input distrusted: the log (verified before it is read), every string in it.

import { dirname } from 'node:path';
import { AgentkError } from '../errors.js';
import { CompiledPolicy } from '../policy/compile.js';
import { parsePolicyText } from '../policy/load.js';
import type { PolicyRule } from '../policy/types.js';
import type { SyscallEvent } from '../recorder/event.js';
import { OBSERVATION_KINDS } from '../vocabulary.js';
import { decisionKey, isRecord, recordedDecision, redecide, strings } from './fork.js';
import type { ReviewedLog } from './log.js';

/** Where a tainted argument's value was first seen. */
export interface Origin {
  readonly argument: string;
  readonly labels: readonly string[];
  /** The step whose content it came from, and that step's syscall and target. */
  readonly step: number | null;
  readonly source: string | null;
  readonly page_sha256: string;
}

/** Where a label of the session (context labels) came from: the first content that had it. */
export interface SessionOrigin {
  readonly label: string;
  readonly step: number;
  readonly source: string;
}

export interface SuggestionCheck {
  readonly policy: string;
  /** What that policy decides for the step as recorded, `effect:rule`. */
  readonly base: string;
  /** With the rule added; null when the suggested policy does not load. */
  readonly after: string | null;
  readonly flips: boolean;
  readonly problem: string | null;
}

/** A recorded value that would be a pattern in a policy: `target`, a value role, a source. */
export interface Wildcard {
  readonly where: 'target' | 'paths' | 'hosts' | 'recipients' | 'source';
  readonly value: string;
}

export interface Explanation {
  readonly step: number;
  readonly syscall: string;
  readonly target: string;
  readonly verdict: string;
  readonly effect: string;
  readonly rule: string;
  readonly reason: string;
  readonly missing_capability: string | null;
  readonly labels: readonly string[];
  readonly control_labels: readonly string[];
  readonly context_labels: readonly string[];
  readonly sinks: readonly string[];
  /** The rule's conditions this step met, as `condition: values`. */
  readonly matched: readonly string[];
  readonly origins: readonly Origin[];
  /** For each label of the session, the step whose content first brought it in. */
  readonly session_origins: readonly SessionOrigin[];
  /** Why no policy should lift this casually, or null. */
  readonly hard: string | null;
  /** The `[[rules]]` TOML that allows this action; null for a kernel refusal. */
  readonly rule_snippet: string | null;
  /** What the rule also allows (no argument values to narrow it), or null. */
  readonly broad: string | null;
  /** `[labels.sources]` TOML vouching for where the taint came from, when that would do. */
  readonly vouch: string | null;
  /**
   * Recorded values a suggestion would copy that hold a policy wildcard (`*`, `?`): in a
   * rule they would match more than this call, so no snippet copies them.
   */
  readonly wildcards: readonly Wildcard[];
  /** `agentk approve <hash>` for an `ask`. */
  readonly approve: string | null;
  readonly check: SuggestionCheck | null;
}

/** What brings content into the agent's context: what a server showed it, and these. */
const CONTEXT_KINDS: ReadonlySet<string> = new Set([
  ...OBSERVATION_KINDS,
  'context.read',
  'model.call',
  'memory.write',
]);
const RESPONSE_KINDS = new Set(['tool.response', 'resource.response', 'prompt.response']);
const TAINT = ['untrusted', 'external', 'poisoned-suspect'];

/** The steps of a log that were refused or asked (verdict other than allow). */
export function refusedSteps(log: ReviewedLog): SyscallEvent[] {
  return log.events.filter((event) => event.decision.verdict !== 'allow');
}

/** An earlier step, as an explanation names it. */
interface Source {
  readonly step: number;
  readonly kind: string;
  readonly target: string;
}

/**
 * What a step's explanation reads from the steps before it: the first allowed step that
 * brought in each content hash, and the first allowed content event that carried each
 * label. Fed the log's events in order, so that explaining many steps reads it once; it
 * keeps only those steps' kinds and targets, not the events.
 */
export class StepExplainer {
  readonly content = new Map<string, Source>();
  readonly labels = new Map<string, { readonly origin: SessionOrigin; readonly order: number }>();
  readonly #sources = new Map<number, Source>();
  readonly byStep: (step: number) => Source | undefined;

  constructor(byStep?: (step: number) => Source | undefined) {
    this.byStep = byStep ?? ((step) => this.#sources.get(step));
  }

  /** The next event of the log (after explaining it, if it is to be explained). */
  add(event: SyscallEvent): void {
    if (event.decision.verdict !== 'allow') return;
    const source = { step: event.step, kind: event.syscall.kind, target: event.syscall.target };
    for (const input of event.syscall.inputs) {
      if (this.content.has(input.sha256)) continue;
      this.content.set(input.sha256, source);
      if (!this.#sources.has(source.step)) this.#sources.set(source.step, source);
    }
    if (!CONTEXT_KINDS.has(event.syscall.kind)) return;
    for (const label of event.syscall.labels) {
      if (this.labels.has(label)) continue;
      const origin = { label, step: event.step, source: `${source.kind} ${source.target}` };
      this.labels.set(label, { origin, order: this.labels.size });
    }
  }

  /** explainStep for `event`, the next event of the log (not yet added). */
  explain(event: SyscallEvent, base: PolicyBase, check = true): Explanation {
    return explainAfter(this, event, base, check);
  }
}

/** The steps before `before`, read from the start of the log. */
function earlierThan(log: ReviewedLog, before: number): StepExplainer {
  const earlier = new StepExplainer((step) => {
    const found = log.events.find((event) => event.step === step);
    return found && { step, kind: found.syscall.kind, target: found.syscall.target };
  });
  for (const event of log.events) {
    if (event.step >= before) break;
    earlier.add(event);
  }
  return earlier;
}

/** Where each tainted argument came from (detail.provenance), mapped to its step. */
function originsOf(earlier: StepExplainer, event: SyscallEvent): Origin[] {
  const hits = event.syscall.detail?.provenance;
  if (!Array.isArray(hits)) return [];
  const steps = earlier.content;
  return hits.filter(isRecord).flatMap((hit) => {
    const labels = strings(hit.labels);
    if (!labels.some((label) => label !== 'trusted')) return [];
    const sha = typeof hit.page_sha256 === 'string' ? hit.page_sha256 : '';
    const from = steps.get(sha);
    return [
      {
        argument: String(hit.arg ?? '').replace(/^arg:/, ''),
        labels,
        step: from?.step ?? null,
        source: from ? `${from.kind} ${from.target}` : null,
        page_sha256: sha,
      },
    ];
  });
}

/** The first allowed content event before `event` that carried each of its context labels. */
function sessionOriginsOf(earlier: StepExplainer, event: SyscallEvent): SessionOrigin[] {
  const wanted = new Set(strings(event.syscall.detail?.context_labels));
  return [...wanted]
    .flatMap((label) => {
      const first = earlier.labels.get(label);
      return first ? [first] : [];
    })
    .sort((a, b) => a.order - b.order)
    .map((first) => first.origin);
}

/** The conditions of `rule` this event met, in words. */
function matchedConditions(rule: PolicyRule, event: SyscallEvent): string[] {
  const { when } = rule;
  const context = strings(event.syscall.detail?.context_labels);
  const both = (named: readonly string[] | undefined, have: readonly string[]) =>
    (named ?? []).filter((item) => have.includes(item));
  const lines: [string, readonly string[] | undefined, readonly string[]][] = [
    ['syscalls', when.syscalls, [event.syscall.kind]],
    ['sinks', when.sinks, event.syscall.sinks],
    ['labels_any', when.labels_any, event.syscall.labels],
    ['labels_all', when.labels_all, event.syscall.labels],
    ['control_labels_any', when.control_labels_any, event.syscall.control_labels],
    ['context_labels_any', when.context_labels_any, context],
  ];
  const met = lines.flatMap(([name, named, have]) => {
    const found = both(named, have);
    return named !== undefined && found.length > 0 ? [`${name}: ${found.join(', ')}`] : [];
  });
  if (when.targets) met.push(`targets: ${event.syscall.target}`);
  if (when.capability) met.push(`capability ${when.capability}: ${event.syscall.capability}`);
  const values = event.syscall.detail?.values;
  for (const role of ['paths', 'hosts', 'recipients'] as const) {
    const named = when[role] ?? when[`${role}_outside`];
    const have = isRecord(values) ? strings(values[role]) : [];
    if (named !== undefined && have.length > 0) met.push(`${role}: ${have.join(', ')}`);
  }
  return met;
}

/** Why no policy should lift this casually, or null. */
function hardReason(event: SyscallEvent): string | null {
  const { labels, control_labels: control, sinks, kind } = event.syscall;
  if (CONTEXT_KINDS.has(kind) && labels.includes('secret')) {
    return 'secret material would enter the model context raw (secret.open gives the agent a handle instead)';
  }
  if (sinks.includes('egress') && (labels.includes('private') || labels.includes('secret'))) {
    return 'private or secret data would leave the machine';
  }
  if (sinks.includes('exec') && control.some((label) => TAINT.includes(label))) {
    return 'content from outside would steer a shell or code execution';
  }
  return null;
}

const toml = (text: string) => JSON.stringify(text.toWellFormed());
const tomlList = (items: readonly string[]) => `[${items.map(toml).join(', ')}]`;

/** Value patterns the policy language accepts as they are (policy/parse.ts). */
const VALUE_OK: Record<'paths' | 'hosts' | 'recipients', (value: string) => boolean> = {
  paths: (value) =>
    value.startsWith('/') &&
    !value.endsWith('/') &&
    !/\/\.{1,2}(?:\/|$)|\/\/|\0|\*\*|\$\{/.test(value),
  hosts: (value) => /^[A-Za-z0-9*?.:_-]+$/.test(value),
  recipients: (value) => /^[^\s@]+@[^\s@]+$/.test(value),
};

/** The value conditions that pin the rule to this call's paths, hosts and recipients. */
/** The value conditions that narrow the rule, and the roles the call had that none narrows. */
function valueConditions(event: SyscallEvent): { conditions: string[]; dropped: string[] } {
  const values = event.syscall.detail?.values;
  if (!isRecord(values)) return { conditions: [], dropped: [] };
  const unknown = strings(values.unknown);
  const conditions: string[] = [];
  const dropped: string[] = [];
  for (const role of ['paths', 'hosts', 'recipients'] as const) {
    const have = strings(values[role]);
    // A role the run could not read in full never matches an allow: it is left out, and
    // the rule then allows any value of it (said in the note).
    if (unknown.includes(role) || (have.length > 0 && !have.every(VALUE_OK[role]))) {
      dropped.push(role);
    } else if (have.length > 0) conditions.push(`${role} = ${tomlList(have)}`);
  }
  const amounts = Array.isArray(values.amounts)
    ? values.amounts.filter((n): n is number => typeof n === 'number' && Number.isFinite(n))
    : [];
  if (unknown.includes('amounts')) dropped.push('amount');
  else if (amounts.length > 0) {
    conditions.push(`amount = { min = ${Math.min(...amounts)}, max = ${Math.max(...amounts)} }`);
  }
  return { conditions: [...conditions, ...argumentConditions(values.arguments, dropped)], dropped };
}

/** `[rules.when.arguments]` for the named arguments the run read; others go to `dropped`. */
function argumentConditions(named: unknown, dropped: string[]): string[] {
  if (!isRecord(named)) return [];
  const lines: string[] = [];
  for (const [name, list] of Object.entries(named)) {
    const have = strings(list);
    const exact = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(name) && !have.some((v) => /[*?]/.test(v));
    if (!Array.isArray(list) || have.length === 0 || !exact) dropped.push(`argument ${name}`);
    else lines.push(`${name} = ${tomlList(have)}`);
  }
  return lines.length > 0 ? ['[rules.when.arguments]', ...lines] : [];
}

/** The rule that allows exactly this action, placed before the rule that refused it. */
function ruleSnippet(event: SyscallEvent): { snippet: string; broad: string | null } {
  const { kind, target } = event.syscall;
  const { conditions: values, dropped } = valueConditions(event);
  const snippet = [
    '[[rules]]',
    `id = ${toml(`allow-why-step-${event.step}`)}`,
    `before = ${toml(event.decision.rule)}`,
    'effect = "allow"',
    `reason = ${toml(`allowed after review (agentk why, step ${event.step} of run ${event.run_id.slice(0, 40)})`)}`,
    '[rules.when]',
    `syscalls = ${tomlList([kind])}`,
    `targets = ${tomlList([target])}`,
    ...values,
    '',
  ].join('\n');
  const broad =
    dropped.length > 0
      ? `${kind} of ${target} with any ${dropped.join(' or ')} (the run could not record them in a form a rule can name)`
      : values.length === 0 && ['tool.invoke', 'resource.read', 'prompt.get'].includes(kind)
        ? `every ${kind} of ${target}, whatever its arguments (the run recorded no values to narrow it to)`
        : null;
  return { snippet, broad };
}

/**
 * Characters that are wildcards in every pattern a suggestion writes (targets and source
 * keys: policy/glob.ts; paths, hosts, recipients: policy/values.ts). The policy language
 * has no escape for them, so a recorded value holding one cannot be matched exactly.
 */
const WILDCARD = /[*?]/;

/** The recorded values a rule for this step would copy that hold a wildcard. */
function ruleWildcards(event: SyscallEvent): Wildcard[] {
  const found: Wildcard[] = [];
  if (WILDCARD.test(event.syscall.target)) {
    found.push({ where: 'target', value: event.syscall.target });
  }
  const values = event.syscall.detail?.values;
  for (const role of ['paths', 'hosts', 'recipients'] as const) {
    const have = isRecord(values) ? strings(values[role]) : [];
    for (const value of have.filter((item) => WILDCARD.test(item)))
      found.push({ where: role, value });
  }
  return found;
}

/** `[labels.sources]` vouching for the sources of merely untrusted taint, if that is all. */
function vouchSnippet(
  earlier: StepExplainer,
  origins: readonly Origin[],
): { vouch: string | null; wildcards: Wildcard[] } {
  const none = { vouch: null, wildcards: [] };
  const sources = new Set<string>();
  for (const origin of origins) {
    const from = origin.step === null ? undefined : earlier.byStep(origin.step);
    const clean = !origin.labels.some((label) =>
      ['poisoned-suspect', 'secret', 'private'].includes(label),
    );
    if (!from || !clean || !RESPONSE_KINDS.has(from.kind)) return none;
    sources.add(from.target);
  }
  // A source key is a pattern too: one with a wildcard would vouch for more than it.
  const wild = [...sources].filter((source) => WILDCARD.test(source));
  if (wild.length > 0)
    return { vouch: null, wildcards: wild.map((value) => ({ where: 'source', value })) };
  if (sources.size === 0) return none;
  const vouch = [
    '[labels.sources]',
    ...[...sources].map((source) => `${toml(source)} = ["trusted"]`),
    '',
  ].join('\n');
  return { vouch, wildcards: [] };
}

/** Re-decide the step under `base` with the rule added: does it allow it? */
function checkSuggestion(
  event: SyscallEvent,
  snippet: string,
  base: { readonly path: string; readonly policy: CompiledPolicy },
): SuggestionCheck {
  const before = decisionKey(redecide(base.policy, event));
  let after: string | null = null;
  let problem: string | null = null;
  try {
    const text = `extends = ${toml(base.path)}\n\n${snippet}`;
    const policy = parsePolicyText(text, 'the suggested rule', dirname(base.path));
    after = decisionKey(redecide(new CompiledPolicy(policy), event));
  } catch (error) {
    if (!(error instanceof AgentkError)) throw error;
    problem = [error.message, ...error.problems].join('; ');
  }
  return {
    policy: base.path,
    base: before,
    after,
    flips: after?.startsWith('allow:') === true,
    problem,
  };
}

/** Everything `agentk why` says about one step. */
export function explainStep(
  log: ReviewedLog,
  event: SyscallEvent,
  base: PolicyBase,
  /** Whether to check the suggested rule (loads the policy again: one step at a time). */
  check = true,
): Explanation {
  return explainAfter(earlierThan(log, event.step), event, base, check);
}

type PolicyBase = { readonly path: string; readonly policy: CompiledPolicy };

/**
 * explainStep for each of `events` (steps of `log`), reading the log once: what each
 * explanation reads of the steps before it is gathered as the log is walked.
 */
export function explainSteps(
  log: ReviewedLog,
  events: readonly SyscallEvent[],
  base: PolicyBase,
  check = true,
): Explanation[] {
  const earlier = new StepExplainer();
  const wanted = new Set(events);
  const explained = new Map<SyscallEvent, Explanation>();
  let last = Number.NEGATIVE_INFINITY;
  for (const event of log.events) {
    if (explained.size === wanted.size || event.step <= last) break;
    last = event.step;
    if (wanted.has(event)) explained.set(event, earlier.explain(event, base, check));
    earlier.add(event);
  }
  // A step not met in order (a log whose steps do not rise) is explained on its own.
  return events.map((event) => explained.get(event) ?? explainStep(log, event, base, check));
}

function explainAfter(
  earlier: StepExplainer,
  event: SyscallEvent,
  base: PolicyBase,
  check: boolean,
): Explanation {
  const { decision, syscall } = event;
  const refused = decision.verdict !== 'allow';
  const kernel = decision.rule.startsWith('kernel.');
  const rule = base.policy.policy.rules.find((candidate) => candidate.id === decision.rule);
  const origins = originsOf(earlier, event);
  const policyRefusal = refused && !kernel;
  const vouched = policyRefusal ? vouchSnippet(earlier, origins) : { vouch: null, wildcards: [] };
  const wildcards = policyRefusal ? [...ruleWildcards(event), ...vouched.wildcards] : [];
  // No rule is suggested that would copy a wildcard: it would allow more than this call.
  const exact = wildcards.every((wildcard) => wildcard.where === 'source');
  const suggestion = policyRefusal && exact ? ruleSnippet(event) : null;
  return {
    step: event.step,
    syscall: syscall.kind,
    target: syscall.target,
    verdict: decision.verdict,
    effect: decision.effect,
    rule: decision.rule,
    reason: decision.reason,
    missing_capability: decision.missing_capability,
    labels: syscall.labels,
    control_labels: syscall.control_labels,
    context_labels: strings(syscall.detail?.context_labels),
    sinks: syscall.sinks,
    matched: rule ? matchedConditions(rule, event) : [],
    origins,
    session_origins: sessionOriginsOf(earlier, event),
    hard: policyRefusal ? hardReason(event) : null,
    rule_snippet: suggestion?.snippet ?? null,
    broad: suggestion?.broad ?? null,
    vouch: vouched.vouch,
    wildcards,
    approve:
      refused && decision.effect === 'ask' ? `agentk approve ${decision.request_hash}` : null,
    check: suggestion && check ? checkSuggestion(event, suggestion.snippet, base) : null,
  };
}

/** Whether `base` decides the step as the run did (else it is likely not the run's policy). */
export function decidedAlike(event: SyscallEvent, check: SuggestionCheck): boolean {
  return check.base === decisionKey(recordedDecision(event));
}
