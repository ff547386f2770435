// `agentk fork-replay-behavior <log> --behavior FILE`: fork with hashed behaviour overrides.

import { DEFAULT_POLICY_PATH } from '../../paths.js';
import { CompiledPolicy } from '../../policy/compile.js';
import { loadPolicyFile } from '../../policy/load.js';
import { forkBehavior, loadBehavior } from '../../review/behavior.js';
import { readReviewedLog } from '../../review/log.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT, printable } from '../io.js';
import { changeLines } from './fork-replay.js';

export const forkReplayBehaviorCommand: Command = {
  name: 'fork-replay-behavior',
  usage: `agentk fork-replay-behavior <log> --behavior FILE [--policy FILE] [--json]

The behaviour file (JSON, version 1) overrides the outputs of allowed model.call,
tool.invoke or network.send steps by hash, with the labels the other output would carry
and the later steps it flows into (see examples/replay-behavior-overrides.json). Raw
outputs, duplicate steps and syscalls that do not match the log are rejected. The fork
joins the labels in, re-decides every syscall under --policy (default: the default
policy) and reports the first divergence and every changed decision.`,
  options: { behavior: { type: 'string' }, policy: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [1, 1],
  run(args, io) {
    const behaviorPath = stringOption(args, 'behavior');
    if (behaviorPath === undefined) throw usageError('--behavior FILE is required');
    const policyPath = stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH;
    const policy = new CompiledPolicy(loadPolicyFile(policyPath));
    const behavior = loadBehavior(behaviorPath);
    const fork = forkBehavior(
      readReviewedLog(args.positionals[0] as string),
      behavior,
      behaviorPath,
      policy,
      policyPath,
    );
    if (flag(args, 'json')) {
      io.stdout(json(fork));
      return EXIT.ok;
    }
    io.stdout(
      [
        `Behaviour fork ${fork.log} (${fork.status}) with ${fork.behavior}: ${fork.overrides.length} output${fork.overrides.length === 1 ? '' : 's'} overridden, ${fork.changes.length} decision${fork.changes.length === 1 ? '' : 's'} change`,
        ...fork.overrides.map(
          (o) =>
            `  step ${o.step} ${o.syscall}: output ${o.stub_output_sha256.slice(0, 12)}… -> ${o.output_sha256.slice(0, 12)}…`,
        ),
        fork.first_divergence === null
          ? '  no decision diverges: the policy holds under this behaviour'
          : `  first divergence at step ${fork.first_divergence}`,
        ...changeLines(fork.changes, fork.summary),
        '',
      ]
        .map(printable)
        .join('\n'),
    );
    return EXIT.ok;
  },
};
