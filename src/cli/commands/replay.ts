// `agentk replay <log>`: deterministic, side-effect-free re-walk of a verified log.

import { readReviewedLog } from '../../review/log.js';
import { replayLog } from '../../review/replay.js';
import { type Command, flag, json } from '../command.js';
import { EXIT, printable, table } from '../io.js';

export const replayCommand: Command = {
  name: 'replay',
  usage: `agentk replay <log> [--json]

Verifies the log, then re-walks it. Nothing is executed and no output is invented: each
allowed model.call, tool.invoke and network.send gets a synthetic stub_output_sha256
derived from its event hash. Summarises blocked rules. Deterministic: the same log always
gives the same report.`,
  options: { json: { type: 'boolean' } },
  positionals: [1, 1],
  run(args, io) {
    const replay = replayLog(readReviewedLog(args.positionals[0] as string));
    if (flag(args, 'json')) {
      io.stdout(json(replay));
      return EXIT.ok;
    }
    const lines = [
      `Replay ${replay.log}: ${replay.status}, ${replay.events.length} events, ${replay.stubs} stubbed output${replay.stubs === 1 ? '' : 's'}, nothing executed`,
      '',
      ...table(
        replay.events.map((event) => [
          String(event.step).padStart(4),
          event.verdict,
          event.syscall,
          event.target.length > 40 ? `${event.target.slice(0, 39)}…` : event.target,
          event.stub_output_sha256
            ? `stub_output_sha256 ${event.stub_output_sha256.slice(0, 16)}…`
            : event.rule,
        ]),
      ),
      '',
      '  blocked by rule:',
      ...(Object.keys(replay.blocked_by_rule).length > 0
        ? table(
            Object.entries(replay.blocked_by_rule).map(([rule, count]) => [
              `    ${rule}`,
              String(count),
            ]),
          )
        : ['    (none)']),
      '',
    ];
    io.stdout(lines.map(printable).join('\n'));
    return EXIT.ok;
  },
};
