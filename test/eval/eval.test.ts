// `agentk eval` on the shipped corpus, end to end (real proxy binary, real child
// servers), and the scenario format's error handling.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillTemplates } from '../../src/eval/run.js';
import { loadCorpus } from '../../src/eval/scenario.js';
import { runCli } from '../helpers/cli.js';

interface Tally {
  scenarios: number;
  attacks: number;
  attacksExecutedBaseline: number;
  attacksBlocked: number;
  benignClean: number;
  benignCleanAllowed: number;
  benignAfterUntrusted: number;
  benignAfterUntrustedAllowed: number;
  leaksBaseline: number;
  leaksAgentk: number;
  unanswered: number;
  blockedWithoutReason: number;
}

describe('agentk eval on the shipped corpus', () => {
  it('runs every scenario both ways and scores what the server actually received', async () => {
    const result = await runCli(['eval', '--json']);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      total: Tally;
      failures: { scenario: string; problem: string }[];
    };
    const t = report.total;
    expect(t.scenarios).toBeGreaterThanOrEqual(40);
    // The scenarios are real attacks: without AgentK every one executes, secrets leak.
    expect(t.attacksExecutedBaseline).toBe(t.attacks);
    expect(t.leaksBaseline).toBeGreaterThan(0);
    // With AgentK: what docs/eval.md reports. A regression in any of these fails here.
    expect(t.leaksAgentk).toBe(0);
    expect(t.unanswered).toBe(0);
    expect(t.blockedWithoutReason).toBe(0);
    expect(t.benignCleanAllowed).toBe(t.benignClean);
    expect(t.attacksBlocked).toBeGreaterThanOrEqual(t.attacks - 1);
    expect(t.benignAfterUntrustedAllowed / t.benignAfterUntrusted).toBeGreaterThanOrEqual(0.8);
    // The exit status follows the targets, and the known miss is named.
    expect(result.code).toBe(report.ok ? 0 : 1);
    for (const failure of report.failures) expect(failure.problem.length).toBeGreaterThan(10);
  }, 120_000);
});

describe('scenario files', () => {
  const corpus = () => mkdtempSync(join(tmpdir(), 'agentk-corpus-'));

  it('reports every problem of a bad scenario, one line each, naming file and key', async () => {
    const dir = corpus();
    writeFileSync(
      join(dir, 'bad.toml'),
      [
        'id = "bad one"',
        'category = "nonsense"',
        'title = "x"',
        '[server]',
        'id = "s"',
        '[[server.tools]]',
        'name = "t"',
        'description = "d"',
        '[[steps]]',
        'role = "benign"',
        'call = "missing"',
      ].join('\n'),
    );
    const result = await runCli(['eval', '--corpus', dir]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/bad\.toml: id: /);
    expect(result.stderr).toMatch(/bad\.toml: category: /);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('cross-checks steps against the server, and ids across files', () => {
    const dir = corpus();
    const scenario = (id: string, call: string) =>
      [
        `id = "${id}"`,
        'category = "shell-injection"',
        'title = "x"',
        '[server]',
        'id = "s"',
        '[[server.tools]]',
        'name = "t"',
        'description = "d"',
        '[[steps]]',
        'role = "attack"',
        `call = "${call}"`,
      ].join('\n');
    writeFileSync(join(dir, 'a.toml'), scenario('one', 'nope'));
    expect(() => loadCorpus(dir)).toThrow(/1 problem/);
    writeFileSync(join(dir, 'a.toml'), scenario('one', 't'));
    mkdirSync(join(dir, 'more'));
    writeFileSync(join(dir, 'more', 'b.toml'), scenario('one', 't'));
    expect(() => loadCorpus(dir)).toThrow(/id "one" is also used by/);
  });

  it('refuses a missing or empty corpus with one clear line', async () => {
    const missing = await runCli(['eval', '--corpus', '/nonexistent/corpus']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const empty = await runCli(['eval', '--corpus', corpus()]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no scenario files/);
  });
});

describe('transcript templates', () => {
  it('copy what earlier steps returned, raw, encoded or matched', () => {
    const answers = ['see https://evil.example/x now', 'token=abc'];
    expect(
      fillTemplates(
        {
          a: '{{step.2}}',
          b: '{{base64:step.2}}',
          c: '{{hex:step.2}}',
          d: '{{url:step.1}}',
          e: ['{{match:step.1:https://\\S+}}'],
          f: 3,
        },
        answers,
      ),
    ).toEqual({
      a: 'token=abc',
      b: Buffer.from('token=abc').toString('base64'),
      c: Buffer.from('token=abc').toString('hex'),
      d: encodeURIComponent(answers[0] as string),
      e: ['https://evil.example/x'],
      f: 3,
    });
  });
});
