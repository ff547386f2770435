// `agentk why <trace> [step]`: why a step was refused, in words, and the policy rule that
// would change it (checked by re-deciding the step with the rule added).

import { relative, resolve } from 'node:path';
import { DEFAULT_POLICY_PATH } from '../../paths.js';
import { CompiledPolicy } from '../../policy/compile.js';
import { loadPolicyFile } from '../../policy/load.js';
import { readReviewedLog } from '../../review/log.js';
import { decidedAlike, type Explanation, explainStep, refusedSteps } from '../../review/why.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT, printable, shellWord } from '../io.js';
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
  if (e.rule_snippet === null) {
    return [
      ...head,
      '',
      `The kernel refused it (${e.rule}), not the policy: no policy rule changes this.`,
    ];
  }
  return [...head, '', ...changeLines(e, trace)];
}

function changeLines(e: Explanation, trace: string): string[] {
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
    'What would change it:',
    ...(e.hard
      ? [
          `  WARNING: a hard deny: ${e.hard}. No policy should lift this casually;`,
          '  the rule below would, for this exact action.',
        ]
      : []),
    `  A rule for the policy the run used (it goes right before ${e.rule}):`,
    '',
    ...indent(e.rule_snippet ?? ''),
    '',
    ...(e.broad ? [`  Note: it allows ${e.broad}.`] : []),
    ...checked,
    `  See it: agentk fork-replay ${shellWord(trace)} --policy FILE (FILE: extends = "<that policy>" and the rule)`,
    ...(e.vouch
      ? [
          "  Or, if you trust what that source returns, vouch for it (from the next run on; the log keeps this run's labels):",
          '',
          ...indent(e.vouch),
          '',
        ]
      : []),
    ...(e.approve
      ? [
          `  Or allow this one request once: ${e.approve} (then the agent retries it; approvals are bound to the proxy's workspace)`,
        ]
      : []),
  ];
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
agentk approve command that allows the one request. A trace that does not verify is
refused.

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
    const trace = relative(io.cwd, path).startsWith('..') ? path : relative(io.cwd, path);
    const policyPath = resolve(io.cwd, stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH);
    const base = { path: policyPath, policy: new CompiledPolicy(loadPolicyFile(policyPath)) };
    const status = log.status === 'sealed' ? 'sealed and verified' : 'unsealed, intact so far';
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
        io.stdout(json({ log: trace, status: log.status, run_id: log.runId, ...explained }));
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
          ...explanationLines(explained, trace),
          ...mismatch,
        ]
          .map(printable)
          .join('\n')}\n`,
      );
      return EXIT.ok;
    }
    const refused = refusedSteps(log).map((event) => explainStep(log, event, base, false));
    if (flag(args, 'json')) {
      io.stdout(json({ log: trace, status: log.status, run_id: log.runId, refused }));
      return EXIT.ok;
    }
    const lines =
      refused.length === 0
        ? [`${trace} (run ${log.runId}, ${status}): nothing refused in ${log.events.length} steps`]
        : [
            `${trace} (run ${log.runId}, ${status}): ${refused.length} of ${log.events.length} steps refused or asked`,
            ...refused.flatMap(briefLines),
            `The rule that would change one: agentk why ${shellWord(trace)} <step>`,
          ];
    io.stdout(`${lines.map(printable).join('\n')}\n`);
    return EXIT.ok;
  },
};
