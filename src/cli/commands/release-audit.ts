// `agentk release-audit`: readiness, format, lint, types, tests, and a smoke run of every
// command (docs/release-checklist.md).

import { PACKAGE_ROOT } from '../../paths.js';
import { releaseAudit } from '../../release/audit.js';
import { summarize } from '../../release/readiness.js';
import { type Command, flag, json } from '../command.js';
import { EXIT } from '../io.js';
import { checkLines } from './readiness.js';

export const releaseAuditCommand: Command = {
  name: 'release-audit',
  usage: `agentk release-audit [--strict] [--quick] [--json]

Runs, in order: the readiness gate; biome (format and lint) and tsc over the checkout;
the proxy's guard tests (fault injection; one line per guard, also with --quick); the
test suite; then every command on the shipped examples in a fresh directory: demo
and verify, verify-signatures pinned to the active signer, the trusted-signer and
secret-reference manifests and the store check, trace-inspect, replay, fork-replay, the
behaviour fork, policy-diff, the MCP server, the stdio proxy on the example sessions
(denials and error redaction), the killer demo, the shim eval and agentk eval (which must
be within the accepted v0.1 limits). One line per check as it finishes, then a summary.

Exit 1 on any FAIL; with --strict also on any WARN (the development signing key is a
WARN, or a FAIL with AGENTK_REQUIRE_SIGNING_KEY=1).

  --strict   fail on warnings too (release gate)
  --quick    skip the test suite (everything else still runs)
  --json     {ok, strict, counts, checks} as JSON at the end`,
  options: {
    strict: { type: 'boolean' },
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: [0, 0],
  async run(args, io, cli) {
    const asJson = flag(args, 'json');
    const strict = flag(args, 'strict');
    const checks = await releaseAudit(
      {
        root: PACKAGE_ROOT,
        env: io.env,
        quick: flag(args, 'quick'),
        runCommand: (argv, commandIo) => cli.run(argv, commandIo),
      },
      (check) => {
        if (!asJson) io.stdout(`${checkLines([check])[0]}\n`);
      },
    );
    const counts = summarize(checks);
    const ok = counts.FAIL === 0 && (!strict || counts.WARN === 0);
    if (asJson) io.stdout(json({ ok, strict, counts, checks }));
    else {
      io.stdout(
        `release-audit: ${counts.PASS} pass, ${counts.WARN} warn, ${counts.FAIL} fail${strict ? ' (strict)' : ''}: ${ok ? 'OK' : 'FAILED'}\n`,
      );
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};
