// `agentk why <trace> [step]`: why a step was refused, in words, and the policy rule that
// would change it (checked by re-deciding the step with the rule added).

import { resolve } from 'node:path';
import type { Signer } from '../../crypto/index.js';
import { AgentkError } from '../../errors.js';
import { loadSigner } from '../../evidence/keys.js';
import { DEFAULT_POLICY_PATH } from '../../paths.js';
import { CompiledPolicy } from '../../policy/compile.js';
import { loadPolicyFile } from '../../policy/load.js';
import { type ReviewedLog, readReviewedLog } from '../../review/log.js';
import {
  decidedAlike,
  type Explanation,
  explainStep,
  explainSteps,
  refusedSteps,
} from '../../review/why.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { type CliIo, EXIT, printable, shellWord } from '../io.js';
import { signerText, type TraceSigner, traceSigner } from '../trace-signer.js';
import { traceOf } from './runs.js';

const indent = (text: string, by = '    ') =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => `${by}${line}`);

function origins(explanation: Explanation): string[] {
  return explanation.origins.map(
    (origin) =>
      `  ${origin.argument} came from ${origin.step !== null ? `step ${origin.step} ${origin.source}` : `a page (sha256 ${origin.page_sha256.slice(0, 12)})`} (${origin.labels.join(', ')})`,
  );
}

/** `DENY`, `ASK`, or `DENY (the rule asks; nobody could be asked)`. */
function verdictText(e: Explanation): string {
  const verdict = e.verdict.toUpperCase();
  return e.effect === 'ask' && e.verdict === 'deny'
    ? `${verdict} (the rule asks; nobody could be asked)`
    : verdict;
}

/** The explanation of one step, in words. */
function explanationLines(e: Explanation, trace: string): string[] {
  const head = [
    `Step ${e.step}: ${verdictText(e)} ${e.syscall} ${e.target}`,
    `  rule ${e.rule}: ${e.reason}`,
    ...(e.matched.length > 0 ? [`  it met: ${e.matched.join('; ')}`] : []),
    `  labels: ${e.labels.join(', ') || '-'}; control arguments: ${e.control_labels.join(', ') || '-'}; session: ${e.context_labels.join(', ') || '-'}${e.sinks.length > 0 ? `; sinks: ${e.sinks.join(', ')}` : ''}`,
    ...e.session_origins.map(
      (o) => `  the session is ${o.label} since step ${o.step} (${o.source})`,
    ),
    ...(e.missing_capability ? [`  missing capability: ${e.missing_capability}`] : []),
    ...origins(e),
  ];
  if (e.verdict === 'allow') return [...head, '  It was allowed: nothing to change.'];
  if (e.rule.startsWith('kernel.sandbox-')) {
    return [
      ...head,
      '',
      `The sandbox refused it (${e.rule}), not the policy: no policy rule changes this; the server's [sandbox.<server-id>] network list does (docs/sandbox.md).`,
    ];
  }
  if (e.rule.startsWith('kernel.')) {
    return [
      ...head,
      '',
      `The kernel refused it (${e.rule}), not the policy: no policy rule changes this.`,
    ];
  }
  return [...head, '', ...changeLines(e, trace)];
}

/** What a rule copied from this call's wildcards would do, and what to do instead. */
function wildcardLines(e: Explanation, where: 'rule' | 'vouch'): string[] {
  const found = e.wildcards.filter((w) => (w.where === 'source') === (where === 'vouch'));
  if (found.length === 0) return [];
  const named = found.map(
    (w) =>
      `${w.where === 'target' || w.where === 'source' ? w.where : `${w.where} value`} ${JSON.stringify(w.value)}`,
  );
  return where === 'rule'
    ? [
        `  WARNING: the recorded ${named.join(', ')} holds wildcard characters (* or ?), which`,
        '  match anything in a policy: a rule copied from this call would allow more than it, so',
        '  none is suggested. Write a narrower rule by hand, naming only what you mean to allow.',
      ]
    : [
        `  Not suggested: vouching for ${named.join(', ')} (it holds wildcard characters, which`,
        '  match anything in a [labels.sources] key: it would vouch for more than that source).',
      ];
}

/** The suggested rule and its check, or the warning that there is none. */
function ruleLines(e: Explanation): string[] {
  if (e.rule_snippet === null) return wildcardLines(e, 'rule');
  const check = e.check;
  const checked =
    check === null
      ? []
      : check.flips
        ? [
            `  Checked: under ${check.policy} with this rule, step ${e.step} becomes ${check.after} (was ${check.base}).`,
          ]
        : [
            `  Not confirmed: under ${check.policy} with this rule, step ${e.step} ${check.after !== null ? `is ${check.after}` : `does not load (${check.problem})`}; give --policy with the policy the run used.`,
          ];
  return [
    `  A rule for the policy the run used (it goes right before ${e.rule}):`,
    '',
    ...indent(e.rule_snippet),
    '',
    ...(e.broad ? [`  Note: it allows ${e.broad}.`] : []),
    ...checked,
  ];
}

function changeLines(e: Explanation, trace: string): string[] {
  return [
    'What would change it:',
    ...(e.hard && e.rule_snippet !== null
      ? [
          `  WARNING: a hard deny: ${e.hard}. No policy should lift this casually;`,
          '  the rule below would, for this exact action.',
        ]
      : []),
    ...(e.hard && e.rule_snippet === null
      ? [`  WARNING: a hard deny: ${e.hard}. No policy should lift this casually.`]
      : []),
    ...ruleLines(e),
    `  See it: agentk fork-replay ${shellWord(trace)} --policy FILE (FILE: extends = "<that policy>" and the rule)`,
    ...(e.vouch
      ? [
          "  Or, if you trust what that source returns, vouch for it (from the next run on; the log keeps this run's labels):",
          '',
          ...indent(e.vouch),
          '',
        ]
      : wildcardLines(e, 'vouch')),
    ...(e.approve
      ? [
          `  Or allow this one request once: ${e.approve} (then the agent retries it; approvals are bound to the proxy's workspace)`,
        ]
      : []),
  ];
}

/** Who sealed the log, against this machine's active signer (which may fail to load). */
function signerOf(log: ReviewedLog, io: CliIo): { signer: TraceSigner | null; line: string } {
  let active: Signer | null = null;
  let problem: string | null = null;
  try {
    active = loadSigner(io.env);
  } catch (error) {
    if (!(error instanceof AgentkError)) throw error;
    problem = error.message;
  }
  const signer = traceSigner(log, active);
  return { signer, line: `  ${signerText(signer, problem)}` };
}

/** One line or two per refused step. */
function briefLines(e: Explanation): string[] {
  const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);
  const origin = e.origins[0];
  return [
    `  step ${e.step} ${e.effect === 'ask' ? 'ASK' : e.verdict.toUpperCase()} ${e.syscall} ${clip(e.target, 60)} by ${e.rule}: ${clip(e.reason, 100)}`,
    ...(origin
      ? [
          `      ${origin.argument} from ${origin.step !== null ? `step ${origin.step} ${clip(origin.source ?? '', 60)}` : 'an earlier page'} (${origin.labels.join(', ')})`,
        ]
      : []),
    ...(e.hard ? [`      a hard deny: ${e.hard}`] : []),
  ];
}

export const whyCommand: Command = {
  name: 'why',
  usage: `agentk why <trace> [step] [--policy FILE] [--workspace DIR] [--json]

Verifies the trace (a file, a run id, or latest: see agentk runs), then explains each
refused or asked step briefly, or one step in full: the syscall, its target, the rule and
its reason, the rule's conditions it met, the labels, and the earlier step each tainted
argument came from. Then what would change it: a [[rules]] entry that allows exactly this
action, checked by re-deciding the step under --policy (the policy the run used; default
the default policy) with the rule added, as agentk fork-replay does; for an ask, the
agentk approve command that allows the one request. No rule is suggested that would copy
a value holding a wildcard (* or ?: patterns in a policy): write a narrower one by hand.
Names the trace's signer: the development key, this machine's key, or another one. A
trace that does not verify is refused.

  --policy FILE     the policy the run used, to check the suggested rule against`,
  options: {
    policy: { type: 'string' },
    workspace: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: [1, 2],
  run(args, io) {
    const [ref, stepText] = args.positionals as [string, string | undefined];
    const path = traceOf(ref, args, io);
    const log = readReviewedLog(path);
    // Absolute: the commands it prints work from any directory.
    const trace = path;
    const policyPath = resolve(io.cwd, stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH);
    const base = { path: policyPath, policy: new CompiledPolicy(loadPolicyFile(policyPath)) };
    const status = log.status === 'sealed' ? 'sealed and verified' : 'unsealed, intact so far';
    const sealed = signerOf(log, io);
    const head = { log: trace, status: log.status, run_id: log.runId, signer: sealed.signer };
    if (stepText !== undefined) {
      const step = Number(stepText);
      const event = log.events.find((candidate) => candidate.step === step);
      if (!/^\d+$/.test(stepText) || event === undefined) {
        throw usageError(
          `step ${stepText.slice(0, 20)}: ${trace} has steps 1-${log.events.length}`,
        );
      }
      const explained = explainStep(log, event, base);
      if (flag(args, 'json')) {
        io.stdout(json({ ...head, ...explained }));
        return EXIT.ok;
      }
      const mismatch =
        explained.check && !decidedAlike(event, explained.check)
          ? [
              `(${policyPath} decides this step ${explained.check.base}, the run ${event.decision.effect}:${event.decision.rule}: the run may have used another policy; give --policy)`,
            ]
          : [];
      io.stdout(
        `${[
          `${trace} (run ${log.runId}, ${status})`,
          sealed.line,
          ...explanationLines(explained, trace),
          ...mismatch,
        ]
          .map(printable)
          .join('\n')}\n`,
      );
      return EXIT.ok;
    }
    const refused = explainSteps(log, refusedSteps(log), base, false);
    if (flag(args, 'json')) {
      io.stdout(json({ ...head, refused }));
      return EXIT.ok;
    }
    const lines =
      refused.length === 0
        ? [
            `${trace} (run ${log.runId}, ${status}): nothing refused in ${log.events.length} steps`,
            sealed.line,
          ]
        : [
            `${trace} (run ${log.runId}, ${status}): ${refused.length} of ${log.events.length} steps refused or asked`,
            sealed.line,
            ...refused.flatMap(briefLines),
            `The rule that would change one: agentk why ${shellWord(trace)} <step>`,
          ];
    io.stdout(`${lines.map(printable).join('\n')}\n`);
    return EXIT.ok;
  },
};
