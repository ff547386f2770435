// `agentk eval` on the shipped corpus, end to end (real proxy binary, real child
// servers), and the scenario format's error handling.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/poisoned-page.js';
import { fillTemplates } from '../../src/eval/run.js';
import { loadCorpus } from '../../src/eval/scenario.js';
import { developmentSigner } from '../../src/evidence/keys.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { ACCEPTED_EVAL } from '../../src/release/audit.js';
import { runCli } from '../helpers/cli.js';
import { decisionLines } from '../helpers/decisions.js';
import { DEFAULT_POLICY, policyAt } from '../helpers/kernel.js';

// What the kernel decided, event by event, in every eval trace and in the demo's: a
// refactoring must leave these exactly as they were. After an intended change of
// behaviour, regenerate with UPDATE_GOLDEN=1 and review the diff line by line.
const GOLDEN = join(PACKAGE_ROOT, 'test', 'fixtures', 'golden');

function matchesGolden(name: string, text: string): void {
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) writeFileSync(path, text);
  const expected = readFileSync(path, 'utf8').split('\n');
  const actual = text.split('\n');
  // The first differing line, named, rather than a diff of thousands of lines.
  const at = actual.findIndex((line, i) => line !== expected[i]);
  if (at !== -1 || actual.length !== expected.length) {
    const i = at === -1 ? Math.min(actual.length, expected.length) : at;
    expect(`${name}:${i + 1}: ${actual[i] ?? '<end>'}`).toBe(
      `${name}:${i + 1}: ${expected[i] ?? '<end>'}`,
    );
  }
}

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
  let result: { code: number; stdout: string; stderr: string };
  let report: {
    ok: boolean;
    total: Tally;
    failures: { scenario: string; problem: string }[];
    run_files: string;
  };
  beforeAll(async () => {
    result = await runCli(['eval', '--json', '--keep']);
    report = JSON.parse(result.stdout);
  }, 120_000);
  afterAll(() => {
    if (report?.run_files) rmSync(report.run_files, { recursive: true, force: true });
  });

  it('runs every scenario both ways and scores what the server actually received', () => {
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
    expect(t.attacksBlocked).toBe(t.attacks);
    // Refused outside compromised sessions: no more than the accepted v0.1 limit.
    expect(t.benignAfterUntrusted - t.benignAfterUntrustedAllowed).toBeLessThanOrEqual(
      ACCEPTED_EVAL.refusedAfterUntrusted,
    );
    // The exit status follows the targets, and the known miss is named.
    expect(result.code).toBe(report.ok ? 0 : 1);
    for (const failure of report.failures) expect(failure.problem.length).toBeGreaterThan(10);
  });

  it('decides every event of every scenario as recorded in golden/eval-decisions.txt', () => {
    const sections: string[] = [];
    for (const id of readdirSync(report.run_files).sort()) {
      const trace = readFileSync(join(report.run_files, id, 'agentk', 'trace.jsonl'), 'utf8');
      sections.push(`## ${id}`, ...decisionLines(trace));
    }
    matchesGolden('eval-decisions.txt', `${sections.join('\n')}\n`);
  });
});

describe('the demo', () => {
  it('decides every event as recorded in golden/demo-decisions.txt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-demo-'));
    try {
      const run = await runDemo(policyAt(DEFAULT_POLICY), dir, developmentSigner());
      matchesGolden(
        'demo-decisions.txt',
        `${decisionLines(readFileSync(run.trace, 'utf8')).join('\n')}\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
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
