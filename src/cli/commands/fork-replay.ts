// `agentk fork-replay <log> --policy FILE`: re-decide a verified log under another policy.

import { CompiledPolicy } from '../../policy/compile.js';
import { loadPolicyFile } from '../../policy/load.js';
import { forkReplay } from '../../review/fork.js';
import { readReviewedLog } from '../../review/log.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT, printable, table } from '../io.js';

export function changeLines(
  changes: readonly {
    step: number;
    syscall: string;
    target: string;
    before: string;
    after: string;
  }[],
  summary: Record<string, number>,
): string[] {
  return [
    ...table(
      changes.map((change) => [
        `  step ${change.step}`,
        change.syscall,
        change.target.length > 40 ? `${change.target.slice(0, 39)}…` : change.target,
        `${change.before} -> ${change.after}`,
      ]),
    ),
    ...(changes.length > 0 ? ['', '  summary:'] : []),
    ...table(Object.entries(summary).map(([key, count]) => [`    ${key}`, String(count)])),
  ];
}

export const forkReplayCommand: Command = {
  name: 'fork-replay',
  usage: `agentk fork-replay <log> --policy FILE [--json]

Re-decides every recorded syscall (its kind, target and recorded labels) under the given
policy, with that policy's sink classification and capability grants, and lists each
decision that changes plus a stable summary such as deny:rule-a->allow:rule-b. Kernel
refusals (kernel.*) do not depend on policy and never change.`,
  options: { policy: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [1, 1],
  run(args, io) {
    const policyPath = stringOption(args, 'policy');
    if (policyPath === undefined) throw usageError('--policy FILE is required');
    const policy = new CompiledPolicy(loadPolicyFile(policyPath));
    const fork = forkReplay(readReviewedLog(args.positionals[0] as string), policy, policyPath);
    if (flag(args, 'json')) {
      io.stdout(json(fork));
      return EXIT.ok;
    }
    io.stdout(
      [
        `Fork replay ${fork.log} (${fork.status}) under ${fork.policy}: ${fork.events} events, ${fork.changes.length} decision${fork.changes.length === 1 ? '' : 's'} change`,
        ...changeLines(fork.changes, fork.summary),
        '',
      ]
        .map(printable)
        .join('\n'),
    );
    return EXIT.ok;
  },
};
