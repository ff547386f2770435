import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const LOG = 'test/fixtures/demo-log.jsonl';
const DEV_PUBLIC = 'e9a292422974d5663627c97302ff7ca67b0a0ca2ac1c293bfa618107f53e2963';

function dir(): string {
  const path = mkdtempSync(join(tmpdir(), 'agentk-cmd-'));
  chmodSync(path, 0o700);
  return path;
}

describe('agentk verify-signatures', () => {
  it('prints counts and the signer fingerprint, never the raw key', async () => {
    const result = await runCli(['verify-signatures', LOG]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/6 receipts, 1 secret handle, 1 seal verified/);
    expect(result.stdout).toContain('ed25519:5ebed52ee6a94c3b');
    expect(result.stdout).not.toContain(DEV_PUBLIC);
  });

  it('fails with the line when pinned to another key, and takes several pins', async () => {
    const other = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c';
    const result = await runCli(['verify-signatures', LOG, '--trusted-public-key', other]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^FAILED test\/fixtures\/demo-log\.jsonl:1: receipt signed by ed25519:5ebed52ee6a94c3b, which is not a pinned trusted key \[untrusted-signer\]/,
    );
    const both = await runCli([
      'verify-signatures',
      LOG,
      '--trusted-public-key',
      other,
      '--trusted-public-key',
      DEV_PUBLIC,
    ]);
    expect(both.code).toBe(0);
    expect(both.stdout).toContain('pinned to 2 trusted keys');
  });

  it('rejects a malformed pin without echoing it', async () => {
    const result = await runCli(['verify-signatures', LOG, '--trusted-public-key', 'SECRETISHxyz']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'agentk verify-signatures: --trusted-public-key #1 is not an Ed25519 public key (expected 64 hex digits)\n',
    );
  });

  it('reports JSON with counts and signers', async () => {
    const result = await runCli(['verify-signatures', LOG, '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      receipts: 6,
      secret_handles: 1,
      seals: 1,
      signers: [
        { fingerprint: 'ed25519:5ebed52ee6a94c3b', key_sources: ['development'], signatures: 8 },
      ],
      development_key: true,
    });
  });
});

describe('agentk trusted-signers-check', () => {
  it('prints counts and labels only', async () => {
    const result = await runCli([
      'trusted-signers-check',
      '--manifest',
      'examples/trusted-signers.toml',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'OK examples/trusted-signers.toml: version 1, 1 trusted key: "agentk development key (public; demos only)"\n',
    );
  });

  it('lists every problem of a bad manifest, one per line, without keys', async () => {
    const path = join(dir(), 't.toml');
    writeFileSync(
      path,
      `version = 1\n[[trusted_keys]]\npublic_key = "${DEV_PUBLIC}"\nlabel = "a"\n[[trusted_keys]]\npublic_key = "${DEV_PUBLIC}"\nlabel = "a"\n`,
    );
    const result = await runCli(['trusted-signers-check', '--manifest', path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'trusted_keys[1].public_key: duplicate key (same as trusted_keys[0])',
    );
    expect(result.stderr).toContain('trusted_keys[1].label: duplicate label "a"');
    expect(result.stderr).not.toContain(DEV_PUBLIC);
  });

  it('requires --manifest', async () => {
    const result = await runCli(['trusted-signers-check']);
    expect([result.code, result.stderr]).toEqual([
      2,
      'agentk trusted-signers-check: --manifest FILE is required\n',
    ]);
  });
});

describe('agentk signing-key', () => {
  it('prints the development key as not production-ready', async () => {
    const result = await runCli(['signing-key', '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({
      public_key: DEV_PUBLIC,
      source: 'development',
      production_ready: false,
    });
  });

  it('reports an unsafe key file', async () => {
    const keyDir = dir();
    const key = join(keyDir, 'k');
    expect((await runCli(['keygen', '--out', key])).code).toBe(0);
    const ready = await runCli(['signing-key', '--json'], { AGENTK_SIGNING_KEY_FILE: key });
    expect(JSON.parse(ready.stdout)).toMatchObject({
      source: 'file',
      production_ready: true,
      problems: [],
    });
    chmodSync(key, 0o640);
    const unsafe = await runCli(['signing-key'], { AGENTK_SIGNING_KEY_FILE: key });
    expect(unsafe.stdout).toMatch(
      /production-ready: no\n {2}- key file .* is accessible by group or others \(mode 0640\)/,
    );
  });
});

describe('agentk keygen and key rotation', () => {
  it('generates, refuses to overwrite, rotates and verifies; a changed byte fails', async () => {
    const keys = dir();
    const current = join(keys, 'current');
    const generated = await runCli(['keygen', '--out', current]);
    expect(generated.code).toBe(0);
    expect(generated.stdout).toMatch(
      /^wrote .*current \(mode 0600\)\npublic key: {2}[0-9a-f]{64}\nfingerprint: ed25519:[0-9a-f]{16}\n$/,
    );
    const seed = readFileSync(current, 'utf8').trim();
    expect(generated.stdout).not.toContain(seed);
    expect((await runCli(['keygen', '--out', current])).code).toBe(2);

    const manifest = join(keys, 'rotation.json');
    const rotated = await runCli([
      'key-rotate',
      '--current',
      current,
      '--next-out',
      join(keys, 'next'),
      '--manifest',
      manifest,
    ]);
    expect(rotated.code).toBe(0);
    const text = readFileSync(manifest, 'utf8');
    expect(text).not.toContain(seed);
    expect(text).not.toContain(readFileSync(join(keys, 'next'), 'utf8').trim());
    expect((await runCli(['key-rotate-verify', '--manifest', manifest])).code).toBe(0);

    writeFileSync(manifest, text.replace('"version":1', '"version":2'));
    const tampered = await runCli(['key-rotate-verify', '--manifest', manifest]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^FAILED .*rotation\.json: /);
  });

  it('refuses to rotate onto an existing manifest before writing any key', async () => {
    const keys = dir();
    await runCli(['keygen', '--out', join(keys, 'current')]);
    writeFileSync(join(keys, 'rotation.json'), '{}');
    const result = await runCli([
      'key-rotate',
      '--current',
      join(keys, 'current'),
      '--next-out',
      join(keys, 'next'),
      '--manifest',
      join(keys, 'rotation.json'),
    ]);
    expect(result.code).toBe(2);
    expect(() => readFileSync(join(keys, 'next'))).toThrow();
  });
});

describe('agentk secret-refs-check and secret-refs-store-check', () => {
  it('validates and counts without printing the reference', async () => {
    const check = await runCli(['secret-refs-check', '--manifest', 'examples/secret-refs.toml']);
    expect(check.stdout).toBe(
      'OK examples/secret-refs.toml: version 1, 1 secret reference (env: 1)\n',
    );
    const missing = await runCli([
      'secret-refs-store-check',
      '--manifest',
      'examples/secret-refs.toml',
    ]);
    expect([missing.code, missing.stdout]).toEqual([
      1,
      'MISSING examples/secret-refs.toml: 0 available, 1 missing, 0 unsupported\n',
    ]);
    const present = await runCli(
      ['secret-refs-store-check', '--manifest', 'examples/secret-refs.toml'],
      {
        AGENTK_DEMO_REF: 'a-secret-value',
      },
    );
    expect(present.code).toBe(0);
    for (const output of [check, missing, present]) {
      expect(output.stdout + output.stderr).not.toMatch(/AGENTK_DEMO_REF|a-secret-value/);
    }
  });
});

describe('review commands refuse a tampered log', () => {
  it('exits 1 with the line, for every review command', async () => {
    const path = join(dir(), 'bad.jsonl');
    writeFileSync(
      path,
      readFileSync(LOG, 'utf8').replace('allow-secret-handle', 'allow-secret-handlE'),
    );
    for (const argv of [
      ['trace-inspect', path],
      ['replay', path],
      ['fork-replay', path, '--policy', 'examples/agentk.policy.toml'],
      ['fork-replay-behavior', path, '--behavior', 'examples/replay-behavior-overrides.json'],
    ]) {
      const result = await runCli(argv);
      expect(result.code, argv[0]).toBe(1);
      expect(result.stderr).toMatch(
        /bad\.jsonl:6: .*\[hash-mismatch\]; refusing to review a log that does not verify/,
      );
    }
  });
});

describe('agentk fork-replay-behavior input checks', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'a raw output',
      { version: 1, overrides: [{ step: 3, syscall: 'model.call', output: 'hello' }] },
      /overrides\[0\]\.output: unknown key \(raw outputs are never accepted/,
    ],
    [
      'raw text in output_sha256',
      {
        version: 1,
        overrides: [{ step: 3, syscall: 'model.call', output_sha256: 'the model said hi' }],
      },
      /output_sha256 must be 64 lowercase hex digits; raw outputs are never accepted/,
    ],
    [
      'a duplicate step',
      {
        version: 1,
        overrides: [
          { step: 3, syscall: 'model.call', output_sha256: 'a'.repeat(64) },
          { step: 3, syscall: 'model.call', output_sha256: 'b'.repeat(64) },
        ],
      },
      /overrides\[1\]\.step: duplicate step 3/,
    ],
    [
      'a mismatched syscall',
      {
        version: 1,
        overrides: [{ step: 3, syscall: 'tool.invoke', output_sha256: 'a'.repeat(64) }],
      },
      /step 3 is model\.call, not tool\.invoke/,
    ],
    [
      'a step without output',
      {
        version: 1,
        overrides: [{ step: 5, syscall: 'context.read', output_sha256: 'a'.repeat(64) }],
      },
      /step 5 produced no output to override/,
    ],
    [
      'a missing step',
      {
        version: 1,
        overrides: [{ step: 99, syscall: 'model.call', output_sha256: 'a'.repeat(64) }],
      },
      /the log has no syscall at step 99/,
    ],
  ];
  for (const [name, behavior, expected] of cases) {
    it(`rejects ${name}`, async () => {
      const path = join(dir(), 'b.json');
      writeFileSync(path, JSON.stringify(behavior));
      const result = await runCli(['fork-replay-behavior', LOG, '--behavior', path]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(expected);
    });
  }
});

describe('agentk policy-diff', () => {
  it('finds no difference between a policy and itself, and differences between profiles', async () => {
    const same = await runCli([
      'policy-diff',
      'examples/agentk.policy.toml',
      'examples/agentk.policy.toml',
      '--json',
    ]);
    expect(JSON.parse(same.stdout).differences).toEqual([]);
    const profiles = ['research-agent', 'coding-agent', 'browser-agent'].map(
      (p) => `examples/policies/${p}.toml`,
    );
    for (const a of profiles) {
      for (const b of profiles) {
        if (a === b) continue;
        const diff = JSON.parse((await runCli(['policy-diff', a, b, '--json'])).stdout);
        expect(diff.differences.length, `${a} vs ${b}`).toBeGreaterThan(0);
        const cell = diff.differences[0];
        // The coding profile has a rule that sees an argument (git_reset's mode): its
        // cells are decided where that condition holds and where it does not.
        const values = [a, b].some((p) => p.includes('coding-agent')) ? ['values'] : [];
        expect(Object.keys(cell).sort()).toEqual([
          'a',
          'b',
          'capability',
          'context_labels',
          'control_labels',
          'labels',
          'sinks',
          'syscall',
          'target',
          ...values,
        ]);
      }
    }
  });
});

describe('agentk policy-check --tools', () => {
  it('shows how a policy classifies a tool list, and why', async () => {
    const result = await runCli([
      'policy-check',
      'examples/agentk.policy.toml',
      '--tools',
      'examples/mcp-tools.json',
      '--server-id',
      'work',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const tools = JSON.parse(result.stdout).tools as {
      target: string;
      sinks: string[];
      classified_by: string;
      response_labels: string[];
    }[];
    const byName = Object.fromEntries(tools.map((tool) => [tool.target, tool]));
    expect(byName['work/read_file']).toMatchObject({
      sinks: ['read'],
      classified_by: 'descriptor and name',
    });
    expect(byName['work/fetch']?.sinks).toEqual(['read', 'egress']);
    expect(byName['work/run_command']).toMatchObject({ sinks: ['exec'], classified_by: 'policy' });
    expect(byName['work/transfer_funds']?.sinks).toEqual(['write', 'egress', 'destructive']);
    // Neither its name nor annotations say; its input schema has no argument named like
    // code, so everything but a shell, as the kernel judges it.
    expect(byName['work/frobnicate']).toMatchObject({
      classified_by: 'descriptor and name',
      sinks: ['write', 'egress', 'destructive'],
    });
    expect(byName['work/read_inbox']?.response_labels).toEqual(['untrusted', 'private']);
  });

  it('refuses a file that is not a tool list', async () => {
    const result = await runCli([
      'policy-check',
      'examples/agentk.policy.toml',
      '--tools',
      'examples/mcp-tool-request.json',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/must hold a list of tool descriptors/);
  });
});
