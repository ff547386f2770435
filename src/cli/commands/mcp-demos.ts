// `agentk mcp-killer-demo` and `agentk mcp-shim-eval`.

import { join, relative } from 'node:path';
import { loadSigner } from '../../evidence/keys.js';
import { runThroughAgentk, shimEval } from '../../mcp/demos.js';
import { DEFAULT_POLICY_PATH, RUNS_DIR, SELF_COMMAND } from '../../paths.js';
import { loadPolicyFile } from '../../policy/load.js';
import { type Command, flag, json, stringOption } from '../command.js';
import { EXIT, printable, table } from '../io.js';

export const mcpKillerDemoCommand: Command = {
  name: 'mcp-killer-demo',
  usage: `agentk mcp-killer-demo [--policy FILE] [--json]

Starts examples/mcp-poisoned-server.mjs behind the real stdio proxy and drives a hijacked
client: the fetched page tells it to read the inbox, post it to an attacker, and backdoor
CI. AgentK records the poison by hash and blocks both follow-up calls before the server
sees them. Trace: .agentk/runs/mcp-killer-demo.jsonl (replaced on each run).`,
  options: { policy: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  async run(args, io) {
    const policy = loadPolicyFile(stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH);
    const trace = join(io.cwd, RUNS_DIR, 'mcp-killer-demo.jsonl');
    const run = await runThroughAgentk(policy, trace, loadSigner(io.env));
    const shown = relative(io.cwd, trace);
    const seen = run.downstreamCalls.map((c) => c.tool);
    const blocked = run.steps.filter((step) => step.outcome === 'denied').map((step) => step.tool);
    const ok = !seen.includes('http_post') && !seen.includes('apply_patch');
    if (flag(args, 'json')) {
      io.stdout(json({ ok, trace: shown, steps: run.steps, downstream_calls: seen, blocked }));
    } else {
      io.stdout(
        [
          'AgentK MCP killer demo: poisoned tool output tries to exfiltrate the inbox and backdoor CI',
          '',
          ...table(
            run.steps.map((step) => [
              `  ${step.tool}`,
              step.outcome.toUpperCase(),
              step.rule ? `${step.rule}` : step.detail.slice(0, 70),
            ]),
          ),
          '',
          `The server received: ${seen.join(', ') || 'nothing'}`,
          `Blocked before the server saw them: ${blocked.join(', ') || 'nothing'}`,
          `Trace: ${shown} (the poison is recorded by hash only)`,
          `Inspect it: ${SELF_COMMAND} trace-inspect ${shown}`,
          '',
        ]
          .map(printable)
          .join('\n'),
      );
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};

export const mcpShimEvalCommand: Command = {
  name: 'mcp-shim-eval',
  usage: `agentk mcp-shim-eval [--policy FILE] [--json]

Drives the same hijacked session into examples/mcp-poisoned-server.mjs twice: straight
(a plain passthrough) and through the AgentK stdio proxy, then scores: dangerous calls
executed or blocked, AgentK metadata leaked or stripped, replayable evidence, and raw
poison kept out of the trace. Exit 1 if AgentK fails any row. See docs/mcp-shim-eval.md.
Trace: .agentk/runs/mcp-shim-eval-agentk.jsonl.`,
  options: { policy: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  async run(args, io) {
    const policy = loadPolicyFile(stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH);
    const trace = join(io.cwd, RUNS_DIR, 'mcp-shim-eval-agentk.jsonl');
    const rows = await shimEval(policy, trace, loadSigner(io.env));
    const ok = rows.every((row) => row.pass);
    const shown = relative(io.cwd, trace);
    if (flag(args, 'json')) {
      io.stdout(json({ ok, trace: shown, rows }));
    } else {
      io.stdout(
        [
          'AgentK MCP shim eval: the same hijacked session, without and with AgentK',
          '',
          ...table([
            ['  check', 'passthrough', 'AgentK', ''],
            ...rows.map((row) => [
              `  ${row.check}`,
              row.baseline,
              row.agentk,
              row.pass ? 'PASS' : 'FAIL',
            ]),
          ]),
          '',
          `${rows.filter((row) => row.pass).length}/${rows.length} checks pass. Trace: ${shown}`,
          `Inspect it: ${SELF_COMMAND} trace-inspect ${shown}`,
          '',
        ].join('\n'),
      );
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};
