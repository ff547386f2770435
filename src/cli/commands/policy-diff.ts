// `agentk policy-diff A B`: where two policies decide differently, exhaustively.

import { CompiledPolicy } from '../../policy/compile.js';
import { loadPolicyFile } from '../../policy/load.js';
import { diffPolicies } from '../../review/policy-diff.js';
import { type Command, flag, json } from '../command.js';
import { EXIT, table } from '../io.js';

export const policyDiffCommand: Command = {
  name: 'policy-diff',
  usage: `agentk policy-diff <a> <b> [--json]

Decides every combination of syscall x label set x capability present/missing x sink
classes x target pattern (x argument values matching or not, where a policy looks at
them) under both policies and lists the cells whose effects differ
(JSON: {"differences": [...]}); the human view groups them. Exit 0 either way.`,
  options: { json: { type: 'boolean' } },
  positionals: [2, 2],
  run(args, io) {
    const [aPath, bPath] = args.positionals as [string, string];
    const diff = diffPolicies(
      new CompiledPolicy(loadPolicyFile(aPath)),
      new CompiledPolicy(loadPolicyFile(bPath)),
      aPath,
      bPath,
    );
    if (flag(args, 'json')) {
      io.stdout(json(diff));
      return EXIT.ok;
    }
    const lines = [
      `${diff.differences.length} of ${diff.cells} cells decide differently (${aPath} -> ${bPath}); ${diff.same_effect_other_rule} more reach the same effect by another rule`,
    ];
    lines.push(
      '(capability is a free dimension: each cell shows what a policy decides when the capability is present, or missing, whatever its grants say)',
    );
    if (diff.differences.some((cell) => cell.values !== undefined)) {
      lines.push(
        '(argument values too: a policy with rules on paths, hosts, recipients, amounts or arguments is decided once where every such condition holds and once where none does)',
      );
    }
    if (diff.differences.length > 0) {
      lines.push(
        '',
        ...table(Object.entries(diff.summary).map(([key, count]) => [`  ${key}`, String(count)])),
      );
    }
    io.stdout(`${lines.join('\n')}\n`);
    return EXIT.ok;
  },
};
