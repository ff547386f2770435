// The CLI as a user meets it: the real bin shim in a child process, in a fresh directory.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');

function agentk(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('AGENTK_')) env[key] = value;
  }
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), 'agentk-cli-')),
    env: { ...env, ...options.env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectNoStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

describe('agentk (no arguments) and agentk demo', () => {
  it('runs the demo, blocks the raw secret read and the sends, and writes a verifiable log', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-demo-'));
    const demo = agentk([], { cwd });
    expect(demo.code, demo.stderr).toBe(0);
    const lines = demo.stdout.split('\n');
    const verdictsOf = (kind: string, target: string) =>
      lines
        .filter((line) => line.includes(` ${kind} `) && line.includes(target))
        .map((line) => line.match(/ (ALLOW|DENY|ASK) /)?.[1])
        .join(' ');
    const verdictOf = verdictsOf;
    expect(verdictOf('context.read', 'file:~/.ssh/id_rsa')).toBe('DENY');
    expect(verdictOf('network.send', 'collect.attacker.example')).toBe('DENY');
    expect(verdictOf('tool.invoke', 'shell/exec')).toBe('DENY');
    expect(verdictOf('context.read', 'https://acme.example/pricing')).toBe('ALLOW');
    // The page reads as an injection: the write asks, the scripted user approves it.
    expect(verdictsOf('file.patch', 'notes/acme-pricing.md')).toBe('ASK ALLOW');
    expect(verdictOf('human.approve', '')).toBe('ALLOW');
    expect(verdictOf('secret.open', 'secret://ssh/id_rsa')).toBe('ALLOW');
    expect(demo.stdout).toMatch(/deny-raw-secret-into-context: .*secret_fd -> raw_model_context/);
    expect(demo.stdout).toContain('npx agentk verify .agentk/runs/latest.jsonl');

    const verify = agentk(['verify', '.agentk/runs/latest.jsonl'], { cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(
      /^OK \.agentk\/runs\/latest\.jsonl: 11 events, sealed by ed25519:[0-9a-f]{16} \(development key\), head [0-9a-f]{64}\n$/,
    );
    const log = readFileSync(join(cwd, '.agentk', 'runs', 'latest.jsonl'), 'utf8');
    expect(log).not.toMatch(/DUMMY-KEY|BEGIN OPENSSH/);
  });

  it('prints {trace, events} with --json', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-demo-'));
    const demo = agentk(['demo', '--json'], { cwd });
    expect(demo.code, demo.stderr).toBe(0);
    const report = JSON.parse(demo.stdout) as {
      trace: string;
      events: { type: string; step: number }[];
    };
    expect(report.trace).toMatch(/^\.agentk\/runs\/\d{8}T\d{6}Z-[0-9a-f]{8}\.jsonl$/);
    expect(report.events.map((event) => event.step)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
    expect(report.events.at(-1)?.type).toBe('seal');
    expect(readFileSync(join(cwd, report.trace), 'utf8')).toBe(
      readFileSync(join(cwd, '.agentk', 'runs', 'latest.jsonl'), 'utf8'),
    );
  });

  it('signs with a configured key and names its source', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-demo-'));
    const demo = agentk(['demo'], { cwd, env: { AGENTK_SIGNING_KEY_HEX: '42'.repeat(32) } });
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/\(environment key\)/);
    const lines = readFileSync(join(cwd, '.agentk/runs/latest.jsonl'), 'utf8').trim().split('\n');
    const seal = JSON.parse(lines.at(-1) as string);
    expect(seal.seal.key_source).toBe('environment');
  });

  it('refuses a malformed configured key with one line, without a stack or the key', () => {
    const demo = agentk(['demo'], { env: { AGENTK_SIGNING_KEY_HEX: 'zz-NOT-A-KEY' } });
    expect(demo.code).toBe(2);
    expect(demo.stderr.trim().split('\n')).toHaveLength(1);
    expect(demo.stderr).toMatch(/AGENTK_SIGNING_KEY_HEX is not a 32-byte Ed25519 seed/);
    expect(demo.stderr).not.toContain('NOT-A-KEY');
    expectNoStack(demo.stderr);
  });
});

describe('agentk verify', () => {
  function demoLog(): { cwd: string; log: string } {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-verify-'));
    expect(agentk(['demo'], { cwd }).code).toBe(0);
    return { cwd, log: readFileSync(join(cwd, '.agentk/runs/latest.jsonl'), 'utf8') };
  }

  it('names the line of a changed byte and exits 1', () => {
    const { cwd, log } = demoLog();
    const lines = log.split('\n');
    lines[4] = (lines[4] as string).replace('steered by no tainted', 'steered by No tainted');
    writeFileSync(join(cwd, 'bad.jsonl'), lines.join('\n'));
    const result = agentk(['verify', 'bad.jsonl'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAILED bad\.jsonl:5: .+ \[hash-mismatch\]\n$/);
  });

  it('reports a cut-off log as unsealed with exit 3, distinct from tampering', () => {
    const { cwd, log } = demoLog();
    const lines = log.split('\n').filter((line) => line !== '');
    writeFileSync(join(cwd, 'cut.jsonl'), `${lines.slice(0, 5).join('\n')}\n`);
    const result = agentk(['verify', 'cut.jsonl'], { cwd });
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(
      /^UNSEALED cut\.jsonl: 5 events intact, head [0-9a-f]{64}; unsealed: possibly truncated/,
    );
    const json = agentk(['verify', 'cut.jsonl', '--json'], { cwd });
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      status: 'unsealed',
      events: 5,
      line: 6,
    });
  });

  it('prints one JSON object with --json for an intact log', () => {
    const { cwd } = demoLog();
    const result = agentk(['verify', '.agentk/runs/latest.jsonl', '--json'], { cwd });
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, status: 'sealed', events: 11 });
  });

  it('says plainly when the log does not exist', () => {
    const result = agentk(['verify', 'nope.jsonl']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('agentk verify: no such log: nope.jsonl\n');
  });
});

describe('agentk policy-check', () => {
  it('summarises a valid policy in one line', () => {
    const result = agentk(['policy-check', join(PACKAGE_ROOT, 'examples/agentk.policy.toml')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^OK .*agentk\.policy\.toml: agent agentk-agent, 13 rules \(4 allow, 6 deny, 3 ask\)/,
    );
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('lists one line per problem and exits 1 for an invalid policy', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-pc-'));
    writeFileSync(
      join(cwd, 'bad.toml'),
      '[agent]\nid = "x"\nbogus = 1\n[[rules]]\nid = "a"\neffect = "allow"\nreason = "r"\n[rules.when]\nlabels_any = ["untrustd"]\n',
    );
    const result = agentk(['policy-check', 'bad.toml'], { cwd });
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toContain('bad.toml: agent.bogus: unknown key');
    expect(
      lines.some((line) => line.includes('rules[0].when.labels_any[0]: unknown label "untrustd"')),
    ).toBe(true);
    expectNoStack(result.stdout + result.stderr);
    const json = agentk(['policy-check', 'bad.toml', '--json'], { cwd });
    expect(JSON.parse(json.stdout).ok).toBe(false);
  });

  it('gives one clear line for a non-TOML file', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-pc-'));
    writeFileSync(join(cwd, 'p.toml'), '{"json": "is not toml"}');
    const result = agentk(['policy-check', 'p.toml'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^p\.toml:1:1: not valid TOML: .+\n$/);
  });
});

describe('the command line', () => {
  it('refuses an unknown command and an unknown flag with exit 2 and one line', () => {
    const unknown = agentk(['frobnicate']);
    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      'agentk: unknown command "frobnicate" (run agentk help)\n',
    ]);
    const flag = agentk(['verify', '--frob', 'x']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
    expect(flag.stderr).toMatch(/^agentk verify: Unknown option '--frob'/);
    const missing = agentk(['verify']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^agentk verify: missing argument/);
  });

  it('prints help and per-command usage', () => {
    const help = agentk(['help']);
    expect(help.code).toBe(0);
    for (const name of ['demo', 'verify', 'policy-check']) expect(help.stdout).toContain(name);
    const usage = agentk(['verify', '--help']);
    expect(usage.stdout).toMatch(/^agentk verify <log> \[--json\]/);
    expect(agentk(['--version']).stdout).toMatch(/^agentk \d+\.\d+\.\d+\n$/);
  });

  it('loads, for every command in the help, the command of that name, with its usage', async () => {
    expect(COMMANDS.length).toBeGreaterThan(20);
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.usage, entry.name).toMatch(new RegExp(`^agentk ${entry.name}\\b`));
    }
  });
});
