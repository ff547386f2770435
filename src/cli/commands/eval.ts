// `agentk eval`: run the attack corpus through a plain passthrough and through AgentK, and
// score both (docs/eval.md).

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type EvalReport, markdownTable, type ScenarioResult, score } from '../../eval/report.js';
import { runScenario } from '../../eval/run.js';
import { loadCorpus, type Scenario } from '../../eval/scenario.js';
import { DEFAULT_POLICY_PATH, PACKAGE_ROOT } from '../../paths.js';
import { loadPolicyFile } from '../../policy/load.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT, printable, table } from '../io.js';

export const DEFAULT_CORPUS = join(PACKAGE_ROOT, 'examples', 'attacks');
const STEP_TIMEOUT_MS = 10_000;

async function runAll(
  scenarios: readonly Scenario[],
  policyPath: string,
  work: string,
  jobs: number,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array(scenarios.length);
  let next = 0;
  const worker = async () => {
    while (next < scenarios.length) {
      const index = next++;
      const scenario = scenarios[index] as Scenario;
      const dir = (mode: string) => join(work, scenario.id, mode);
      const options = { policyPath, stepTimeoutMs: STEP_TIMEOUT_MS };
      const baseline = await runScenario(scenario, 'baseline', {
        ...options,
        workDir: dir('baseline'),
      });
      const agentk = await runScenario(scenario, 'agentk', { ...options, workDir: dir('agentk') });
      results[index] = { scenario, baseline, agentk };
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return results;
}

function render(
  report: EvalReport,
  count: number,
  policyPath: string,
  kept: string | null,
): string {
  const t = report.total;
  const pct = (part: number, whole: number) =>
    whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}%`;
  const lines = [
    `AgentK eval: ${count} scenarios, each run without AgentK (plain passthrough) and through mcp-proxy-stdio`,
    `policy: ${policyPath}`,
    '',
    ...table([
      [
        'category',
        'scen.',
        'attacks run w/o',
        'blocked',
        'clean ok',
        'after-untrusted ok',
        'asked: injected',
        'leaks w/o/with',
        'unanswered',
        'needs model',
      ],
      ...[...report.categories, { category: 'TOTAL', ...t }].map((c) => [
        c.category,
        String(c.scenarios),
        `${c.attacksExecutedBaseline}/${c.attacks}`,
        `${c.attacksBlocked}/${c.attacks}`,
        `${c.benignCleanAllowed}/${c.benignClean}`,
        `${c.benignAfterUntrustedAllowed}/${c.benignAfterUntrusted}`,
        String(c.benignCompromised),
        `${c.leaksBaseline}/${c.leaksAgentk}`,
        String(c.unanswered),
        `${c.needsModelBlocked}/${c.needsModel} blocked`,
      ]),
    ]),
    '',
    `attacks blocked ${pct(t.attacksBlocked, t.attacks)}; clean benign allowed ${pct(t.benignCleanAllowed, t.benignClean)}; benign after untrusted allowed ${pct(t.benignAfterUntrustedAllowed, t.benignAfterUntrusted)} (${t.benignCompromised} more asked: an injection was detected before them); slowest block ${t.slowestBlockMs} ms`,
  ];
  if (report.failures.length > 0) {
    lines.push('', `${report.failures.length} finding(s):`);
    for (const f of report.failures) {
      lines.push(`  ${f.scenario}${f.step === null ? '' : ` step ${f.step}`}: ${f.problem}`);
    }
  }
  if (kept) lines.push('', `run files (traces, call logs) kept in ${kept}`);
  lines.push('', report.ok ? 'targets met' : 'targets NOT met');
  return `${lines.map(printable).join('\n')}\n`;
}

export const evalCommand: Command = {
  name: 'eval',
  usage: `agentk eval [--corpus DIR] [--policy FILE] [--scenario ID]... [--json] [--markdown] [--keep]

Each scenario (examples/attacks/**/*.toml, format in docs/eval.md) is a scripted MCP
server plus the transcript of a fully hijacked agent. It runs twice: straight into the
server (the baseline), and through the real agentk mcp-proxy-stdio under the policy.
What executed is read from the server's own call log. Reports, per category and in
total: attack steps blocked, clean benign steps allowed, benign steps after untrusted
content allowed, planted secrets that reached the client or the trace, unanswered
requests, and attacks that no value-level check can decide (paraphrased instructions).

Exit status: 0 when every target is met, 1 when not, 2 for a usage or corpus error.

  --corpus DIR      scenario directory (default: the shipped examples/attacks)
  --policy FILE     policy for the AgentK runs (default: examples/agentk.policy.toml)
  --scenario ID     run only this scenario (repeatable)
  --json            the full report as JSON, with every step's outcome
  --markdown        the per-category table as Markdown (as in docs/eval.md)
  --keep            keep the run files (traces, call logs) and print where`,
  options: {
    corpus: { type: 'string' },
    policy: { type: 'string' },
    scenario: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    markdown: { type: 'boolean' },
    keep: { type: 'boolean' },
  },
  positionals: [0, 0],
  async run(args, io) {
    if (flag(args, 'json') && flag(args, 'markdown')) {
      throw usageError('give --json or --markdown, not both');
    }
    const policyPath = resolve(io.cwd, stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH);
    loadPolicyFile(policyPath); // a broken policy is reported once, before anything runs
    let scenarios = loadCorpus(resolve(io.cwd, stringOption(args, 'corpus') ?? DEFAULT_CORPUS));
    const only = (args.values.scenario as string[] | undefined) ?? [];
    if (only.length > 0) {
      const unknown = only.filter((id) => !scenarios.some((s) => s.id === id));
      if (unknown.length > 0)
        throw usageError(`no scenario ${JSON.stringify(unknown[0])} in the corpus`);
      scenarios = scenarios.filter((s) => only.includes(s.id));
    }
    const work = mkdtempSync(join(tmpdir(), 'agentk-eval-'));
    const keep = flag(args, 'keep');
    let results: ScenarioResult[];
    try {
      results = await runAll(
        scenarios,
        policyPath,
        work,
        Math.max(1, Math.min(4, availableParallelism())),
      );
    } finally {
      if (!keep) rmSync(work, { recursive: true, force: true });
    }
    const report = score(results);
    if (flag(args, 'json')) {
      io.stdout(
        json({
          ...report,
          policy: policyPath,
          ...(keep ? { run_files: work } : {}),
          scenarios: results.map((r) => ({
            id: r.scenario.id,
            category: r.scenario.category,
            title: r.scenario.title,
            file: r.scenario.file,
            baseline: {
              steps: r.baseline.steps,
              leaked: [...r.baseline.leakedToClient, ...r.baseline.leakedToTrace],
            },
            agentk: {
              steps: r.agentk.steps,
              leaked_to_client: r.agentk.leakedToClient,
              leaked_to_trace: r.agentk.leakedToTrace,
            },
          })),
        }),
      );
    } else if (flag(args, 'markdown')) {
      io.stdout(`${markdownTable(report).join('\n')}\n`);
    } else {
      io.stdout(render(report, scenarios.length, policyPath, keep ? work : null));
    }
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};
