// `agentk demo`: the seed's first demo (also what `agentk` with no arguments runs).

import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runDemo } from '../../demo/poisoned-page.js';
import { loadSigner } from '../../evidence/keys.js';
import { DEFAULT_POLICY_PATH, RUNS_DIR, SELF_COMMAND } from '../../paths.js';
import { loadPolicyFile } from '../../policy/load.js';
import { type Command, flag, json, stringOption } from '../command.js';
import { EXIT, printable, table } from '../io.js';

/** What the demo prints of an event of its trace. */
interface DemoEvent {
  readonly step: number;
  readonly syscall?: { readonly kind: string; readonly target: string };
  readonly decision?: { readonly verdict: string; readonly rule: string; readonly reason: string };
}

export const demoCommand: Command = {
  name: 'demo',
  usage: `agentk demo [--policy FILE] [--json]

Runs a scripted, hijacked agent through the kernel. Nothing real is read or sent: the
secret store holds a dummy key. Writes .agentk/runs/<run-id>.jsonl and latest.jsonl.

  --policy FILE  decide under this policy (default: examples/agentk.policy.toml)
  --json         print {trace, events} as one JSON object`,
  options: { policy: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  async run(args, io) {
    const policy = loadPolicyFile(stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH);
    const signer = loadSigner(io.env);
    const run = await runDemo(policy, join(io.cwd, RUNS_DIR), signer);
    const trace = relative(io.cwd, run.trace);
    const latest = relative(io.cwd, run.latest);
    const events = readFileSync(run.trace, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as DemoEvent);
    if (flag(args, 'json')) {
      io.stdout(json({ trace, latest, run_id: run.runId, events }));
      return EXIT.ok;
    }
    const lines = [
      'AgentK demo: a poisoned web page tries to exfiltrate ~/.ssh/id_rsa',
      '',
      // Every event of the trace: an ask, the user's answer, and the retry show as such.
      ...table(
        events.flatMap((e) =>
          e.syscall && e.decision
            ? [
                [
                  String(e.step).padStart(2),
                  e.decision.verdict.toUpperCase(),
                  e.syscall.kind,
                  e.syscall.target.length > 44
                    ? `${e.syscall.target.slice(0, 43)}…`
                    : e.syscall.target,
                  `${e.decision.rule}: ${e.decision.reason}`,
                ],
              ]
            : [],
        ),
      ),
      '',
      `Flight log: ${trace} (${run.seal.seal.event_count} events, sealed; copied to ${latest})`,
      `Signed by:  ${signer.fingerprint} (${signer.source} key)`,
      `Verify it:  ${SELF_COMMAND} verify ${latest}`,
      '',
    ];
    io.stdout(lines.map(printable).join('\n'));
    return EXIT.ok;
  },
};
