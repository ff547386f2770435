// `agentk why <trace> [step]` (issue 15) on real traces: the demo's (a secret read, a
// private send, a steered shell) and a real proxy session's (a post steered by a fetched
// page). The explanation names the rule and where the taint came from, and what it says
// would change the decision does: the suggested rule flips the step under fork-replay, and
// vouching for the source lets the next session's post through.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stateDirs } from '../../src/config/state.js';
import { runCli } from '../helpers/cli.js';
import { BIN } from '../helpers/real.js';
import { proxySession, STEERED_URL, scratch } from '../helpers/runs.js';

/** The demo's sealed trace, written in a fresh directory. */
function demoTrace(): string {
  const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'agentk-why-')));
  const ran = spawnSync(process.execPath, [BIN, 'demo'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', AGENTK_HOME: join(cwd, 'state') },
    encoding: 'utf8',
  });
  expect(ran.status).toBe(0);
  return join(cwd, '.agentk', 'runs', 'latest.jsonl');
}

interface Explained {
  target: string;
  rule: string;
  matched: string[];
  origins: { argument: string; step: number | null; source: string | null; labels: string[] }[];
  hard: string | null;
  rule_snippet: string;
  vouch: string | null;
  approve: string | null;
  check: { flips: boolean; after: string };
}

async function explain(trace: string, step: number, home?: string, ws?: string) {
  const ran = await runCli(
    ['why', trace, String(step), '--json', ...(ws ? ['--workspace', ws] : [])],
    home ? { AGENTK_HOME: home } : {},
  );
  expect(ran.code, ran.stderr).toBe(0);
  return JSON.parse(ran.stdout) as Explained;
}

/** fork-replay of `trace` under the default policy with `toml` added: the changed steps. */
async function flipped(trace: string, toml: string): Promise<{ step: number; after: string }[]> {
  const policy = join(mkdtempSync(join(tmpdir(), 'agentk-why-policy-')), 'policy.toml');
  writeFileSync(policy, `extends = "default"\n\n${toml}`);
  const ran = await runCli(['fork-replay', trace, '--policy', policy, '--json']);
  expect(ran.code, ran.stderr).toBe(0);
  return JSON.parse(ran.stdout).changes;
}

describe('agentk why', () => {
  it("explains the demo's refusals, and each suggested rule flips its step under fork-replay", async () => {
    const trace = demoTrace();
    const brief = await runCli(['why', trace]);
    expect(brief.code).toBe(0);
    expect(brief.stdout).toContain('4 of 11 steps refused or asked');
    expect(brief.stdout).toMatch(
      /\n {2}sealed by ed25519:[0-9a-f]{16} \(the public development key/,
    );
    expect(brief.stdout).toContain(
      'step 4 ASK file.patch notes/acme-pricing.md by ask-compromised-session',
    );
    expect(brief.stdout).toContain(
      'step 7 DENY context.read file:~/.ssh/id_rsa by deny-raw-secret-into-context',
    );
    expect(brief.stdout).toContain('command from step 2 context.read https://acme.example/pricing');

    const send = await explain(trace, 9);
    expect(send.rule).toBe('deny-private-egress');
    expect(send.matched).toEqual(['sinks: egress', 'labels_any: private, secret']);
    expect(send.origins).toEqual([
      {
        argument: 'target',
        labels: ['untrusted', 'external', 'poisoned-suspect'],
        step: 2,
        source: 'context.read https://acme.example/pricing',
        page_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    expect(send.hard).toBe('private or secret data would leave the machine');
    expect(send.rule_snippet).toContain('hosts = ["collect.attacker.example"]');
    for (const step of [4, 7, 9, 10]) {
      const explained = await explain(trace, step);
      expect(explained.check.flips, `step ${step}`).toBe(true);
      // This step changes to the suggested rule, and nothing but the same action does.
      const changes = await flipped(trace, explained.rule_snippet);
      expect(changes).toContainEqual(
        expect.objectContaining({ step, after: `allow:allow-why-step-${step}` }),
      );
      for (const change of changes) {
        expect(change).toMatchObject({
          after: `allow:allow-why-step-${step}`,
          target: explained.target,
        });
      }
    }
    const text = await runCli(['why', trace, '7']);
    expect(text.stdout).toContain('Step 7: DENY context.read file:~/.ssh/id_rsa');
    expect(text.stdout).toContain(
      'WARNING: a hard deny: secret material would enter the model context raw',
    );
    expect(text.stdout).toMatch(/Checked: under .* step 7 becomes allow:allow-why-step-7/);
  }, 60_000);

  it('names the page a steered call came from; the suggested rule and vouching for its source each let it through', async () => {
    const { ws, home } = scratch();
    expect(proxySession(ws, home).stdout).toContain('AgentK denied tool.invoke web/post_report');
    const text = await runCli(['why', 'latest', '5', '--workspace', ws], { AGENTK_HOME: home });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      'Step 5: DENY (the rule asks; nobody could be asked) tool.invoke web/post_report',
    );
    expect(text.stdout).toContain('rule ask-untrusted-steered-action:');
    expect(text.stdout).toContain('url came from step 4 tool.response web/fetch_page (untrusted)');
    expect(text.stdout).not.toContain('WARNING');
    expect(text.stdout).toContain('sealed by ed25519:');

    const explained = await explain('latest', 5, home, ws);
    const trace = join(stateDirs({ AGENTK_HOME: home }, ws).runs, 'mcp-web-latest.jsonl');
    const event = readFileSync(trace, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((line) => line.step === 5);
    expect(explained.approve).toBe(`agentk approve ${event.decision.request_hash}`);
    expect(explained.rule_snippet).toContain(`hosts = ["${new URL(STEERED_URL).host}"]`);
    expect(await flipped(trace, explained.rule_snippet)).toEqual([
      expect.objectContaining({ step: 5, after: 'allow:allow-why-step-5' }),
    ]);

    // Vouching for the source, from the next session on.
    expect(explained.vouch).toBe('[labels.sources]\n"web/fetch_page" = ["trusted"]\n');
    const vouched = join(ws, '..', 'vouched.toml');
    writeFileSync(vouched, `extends = "default"\n\n${explained.vouch}`);
    const next = proxySession(ws, home, { args: ['--policy', vouched] });
    expect(next.status).toBe(0);
    expect(next.stdout).toContain('"text":"posted"');
  }, 60_000);

  it('refuses a trace that does not verify, and a step it does not have, in one line', async () => {
    const trace = demoTrace();
    const tampered = join(trace, '..', 'tampered.jsonl');
    writeFileSync(
      tampered,
      readFileSync(trace, 'utf8').replace('acme.example/pricing', 'acme.example/pricinG'),
    );
    const refused = await runCli(['why', tampered, '2']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/refusing to review a log that does not verify/);
    for (const step of ['12', '0', 'x']) {
      const bad = await runCli(['why', trace, step]);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim()).toMatch(
        new RegExp(`^agentk why: step ${step}: .* has steps 1-11$`),
      );
    }
    const unknown = await runCli(['why', 'no-such-run', '--workspace', join(trace, '..')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^agentk why: no run "no-such-run" in /);
  }, 60_000);

  it('names the trace by its absolute path when run from `/`, as from outside it', () => {
    const trace = realpathSync(demoTrace());
    const env = { PATH: process.env.PATH ?? '', AGENTK_HOME: join(trace, '..', 'state') };
    const why = (cwd: string, step: string) =>
      spawnSync(process.execPath, [BIN, 'why', trace, step], { cwd, env, encoding: 'utf8' });
    for (const cwd of ['/', mkdtempSync(join(tmpdir(), 'agentk-why-elsewhere-'))]) {
      const out = why(cwd, '10');
      expect(out.status, out.stderr).toBe(0);
      expect(out.stdout.split('\n')[0]).toMatch(new RegExp(`^${trace.replaceAll('.', '\\.')} `));
      const bad = why(cwd, '99');
      expect(bad.stderr.trim()).toBe(`agentk why: step 99: ${trace} has steps 1-11`);
    }
  }, 60_000);
});
