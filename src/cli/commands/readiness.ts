// `agentk readiness`: the public-readiness gate (docs/public-readiness.md).

import { PACKAGE_ROOT } from '../../paths.js';
import { type Check, readiness, summarize } from '../../release/readiness.js';
import { type Command, flag, json, stringOption } from '../command.js';
import { type CliIo, EXIT, printable } from '../io.js';

export function checkLines(checks: readonly Check[]): string[] {
  const width = Math.max(...checks.map((c) => c.check.length));
  return checks.map((c) => printable(`[${c.status}] ${c.check.padEnd(width)}  ${c.detail}`));
}

export function runReadiness(root: string, io: CliIo, named = false): Check[] {
  return readiness(root, io.env, named);
}

export const readinessCommand: Command = {
  name: 'readiness',
  usage: `agentk readiness [--root DIR] [--json]

One line per check, [PASS|WARN|FAIL] check detail: required files are present; .gitignore
ignores .agentk/; every shipped policy, manifest and the attack corpus validate; the
signing key's source and its file's permissions (AGENTK_REQUIRE_SIGNING_KEY=1 turns the
development key into a FAIL); no tracked run output, keys, env files or credentials
outside the planted-test paths; no document claims production readiness. The patterns
are documented in docs/public-readiness.md. Exit 1 on any FAIL.

  --root DIR   the checkout to examine (default: this AgentK package; an installed copy
               of it, under node_modules and without .git, skips the repository checks)
  --json       {ok, counts, checks} as JSON`,
  options: { root: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  run(args, io) {
    const named = stringOption(args, 'root');
    const checks = runReadiness(named ?? PACKAGE_ROOT, io, named !== undefined);
    const counts = summarize(checks);
    const ok = counts.FAIL === 0;
    if (flag(args, 'json')) {
      io.stdout(json({ ok, counts, checks }));
    } else {
      io.stdout(
        `${[
          ...checkLines(checks),
          `readiness: ${counts.PASS} pass, ${counts.WARN} warn, ${counts.FAIL} fail`,
        ].join('\n')}\n`,
      );
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};
