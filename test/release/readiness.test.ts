// `agentk readiness`: a fixture checkout (a copy of this package's shipped files, with
// placeholders for documents still being written) passes, and each failure mode fails
// exactly one check, naming the file and never echoing the secret it found.

import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInstalledCopy, PACKAGE_ROOT } from '../../src/paths.js';
import { type Check, REQUIRED_FILES, summarize } from '../../src/release/readiness.js';
import { runCli } from '../helpers/cli.js';

interface Report {
  ok: boolean;
  counts: { PASS: number; WARN: number; FAIL: number };
  checks: Check[];
}

/** Copied from the real checkout; every other required file gets a placeholder. */
const COPIED = [
  'README.md',
  'LICENSE',
  '.gitignore',
  'package.json',
  'package-lock.json',
  'examples',
];

/** A fake GitHub token: the format readiness scans for, built here so no literal ships. */
const FAKE_TOKEN = `ghp_${'aB3dE5fG7hJ9kL1mN2'.repeat(2)}`;
/** A fake `agentk keygen` seed: 64 hex digits. */
const FAKE_SEED = '0123456789abcdef'.repeat(4);

let scratch: string;
let template: string;
let baseline: string;
let fixtureCount = 0;

function write(root: string, file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

function git(root: string, args: readonly string[]): void {
  execFileSync(
    'git',
    [
      '-c',
      'user.email=readiness-test@example.invalid',
      '-c',
      'user.name=AgentK readiness test',
      '-c',
      'init.defaultBranch=main',
      ...args,
    ],
    { cwd: root, stdio: 'pipe' },
  );
}

/**
 * A fresh git checkout copied from the template: `change` edits it before `git add -A`;
 * `forced` are added with -f (they are ignored by the copied .gitignore).
 */
function fixture(change: (root: string) => void = () => {}, forced: readonly string[] = []) {
  fixtureCount += 1;
  const root = join(scratch, `checkout-${fixtureCount}`);
  cpSync(template, root, { recursive: true });
  change(root);
  git(root, ['init', '-q']);
  git(root, ['add', '-A']);
  if (forced.length > 0) git(root, ['add', '-f', '--', ...forced]);
  return root;
}

async function readiness(root: string, env: Record<string, string> = {}) {
  const ran = await runCli(['readiness', '--root', root, '--json'], env);
  const report = JSON.parse(ran.stdout) as Report;
  return { ...ran, report };
}

function named(report: Report, name: string): Check[] {
  return report.checks.filter((check) => check.check === name);
}

function only(report: Report, name: string): Check {
  const found = named(report, name);
  expect(found, `exactly one ${name} check`).toHaveLength(1);
  return found[0] as Check;
}

function failing(report: Report): string[] {
  return report.checks.filter((check) => check.status === 'FAIL').map((check) => check.check);
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'agentk-readiness-'));
  template = join(scratch, 'template');
  mkdirSync(template);
  for (const file of COPIED) {
    cpSync(join(PACKAGE_ROOT, file), join(template, file), { recursive: true });
  }
  for (const file of REQUIRED_FILES) {
    if (!existsSync(join(template, file))) {
      write(template, file, `# ${file}\n\nPlaceholder for the readiness test.\n`);
    }
  }
  baseline = fixture();
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('agentk readiness on a fixture checkout', () => {
  it('passes a checkout with every required file (the development key is a WARN)', async () => {
    const { code, stderr, report } = await readiness(baseline);
    expect(failing(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(report.counts).toEqual(summarize(report.checks));
    expect(only(report, 'required-files')).toEqual({
      status: 'PASS',
      check: 'required-files',
      detail: `${REQUIRED_FILES.length} present`,
    });
    expect(only(report, 'signing-key').status).toBe('WARN');
    expect(only(report, 'gitignore').status).toBe('PASS');
    expect(only(report, 'tracked-files').status).toBe('PASS');
    expect(only(report, 'tracked-secrets').status).toBe('PASS');
    expect(only(report, 'no-readiness-claims').status).toBe('PASS');
    // Every shipped policy is checked, including the profiles under examples/policies/.
    const policies = named(report, 'policy').map((check) => check.detail);
    expect(policies).toContain('examples/agentk.policy.toml validates');
    expect(policies).toContain('examples/policies/coding-agent.toml validates');
    expect(named(report, 'manifest')).toHaveLength(4);
  });

  it('prints one line per check and exits 1 in text mode when a check fails', async () => {
    const root = fixture((dir) => rmSync(join(dir, 'CONTRIBUTING.md')));
    const { code, stdout } = await runCli(['readiness', '--root', root]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^\[FAIL\] required-files +missing: CONTRIBUTING\.md$/m);
    expect(stdout).toMatch(/^\[WARN\] signing-key /m);
    expect(stdout).toMatch(/^readiness: \d+ pass, 1 warn, 1 fail$/m);
  });

  it('checks a root it is given as a checkout, even under node_modules', async () => {
    const under = join(mkdtempSync(join(tmpdir(), 'agentk-readiness-nm-')), 'node_modules', 'x');
    mkdirSync(dirname(under), { recursive: true });
    cpSync(template, under, { recursive: true });
    const { report } = await readiness(under);
    expect(named(report, 'installed-package')).toEqual([]);
    expect(only(report, 'tracked-files').status).toBe('WARN');
  });

  it('counts a copy as installed only under node_modules and without .git', () => {
    const base = mkdtempSync(join(tmpdir(), 'agentk-installed-'));
    const installed = join(base, 'node_modules', 'agentk-kernel');
    mkdirSync(installed, { recursive: true });
    expect(isInstalledCopy(installed)).toBe(true);
    expect(isInstalledCopy(base)).toBe(false);
    mkdirSync(join(installed, '.git'));
    expect(isInstalledCopy(installed)).toBe(false);
  });

  it('warns, without failing, when the root is not a git checkout', async () => {
    const { code, report } = await readiness(template);
    expect(only(report, 'tracked-files').status).toBe('WARN');
    expect(named(report, 'tracked-secrets')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
  });
});

interface FailureMode {
  readonly name: string;
  readonly change: (root: string) => void;
  readonly forced?: readonly string[];
  readonly check: string;
  /** What the FAIL detail must say (the file, at least). */
  readonly detail: RegExp;
  /** Text from the checkout that must never reach the output. */
  readonly secret?: string;
}

const FAILURE_MODES: readonly FailureMode[] = [
  {
    name: 'a missing required file',
    change: (root) => rmSync(join(root, 'SECURITY.md')),
    check: 'required-files',
    detail: /^missing: SECURITY\.md$/,
  },
  {
    name: 'a missing required document under docs/',
    change: (root) => rmSync(join(root, 'docs', 'threat-model.md')),
    check: 'required-files',
    detail: /^missing: docs\/threat-model\.md$/,
  },
  {
    name: 'a .gitignore without .agentk/',
    change: (root) => write(root, '.gitignore', 'node_modules/\n*agentk-signing-key*\n'),
    check: 'gitignore',
    detail: /\.gitignore does not ignore \.agentk\//,
  },
  {
    name: 'tracked run output under .agentk/',
    change: (root) => write(root, '.agentk/runs/x.jsonl', '{}\n'),
    forced: ['.agentk/runs/x.jsonl'],
    check: 'tracked-files',
    detail: /\.agentk\/runs\/x\.jsonl \(run output under \.agentk\/\)/,
  },
  {
    name: 'a tracked signing-key file',
    change: (root) => write(root, 'deploy/agentk-signing-key', 'not a key, just its name\n'),
    forced: ['deploy/agentk-signing-key'],
    check: 'tracked-files',
    detail: /deploy\/agentk-signing-key \(a key file\)/,
  },
  {
    name: 'a tracked file holding a token',
    change: (root) => write(root, 'notes.txt', `deploy token for CI: ${FAKE_TOKEN}\n`),
    check: 'tracked-secrets',
    detail: /notes\.txt \(1\)/,
    secret: FAKE_TOKEN,
  },
  {
    name: 'a tracked signing-key seed',
    change: (root) => write(root, 'keyseed', `${FAKE_SEED}\n`),
    check: 'tracked-secrets',
    detail: /keyseed \(a signing-key seed\)/,
    secret: FAKE_SEED,
  },
  {
    name: 'a committed .npmrc with an auth token',
    change: (root) =>
      write(root, '.npmrc', '//registry.npmjs.org/:_authToken=0123456789abcdef01234567\n'),
    check: 'tracked-secrets',
    detail: /\.npmrc \(an npm auth token\)/,
    secret: '0123456789abcdef01234567',
  },
  {
    name: 'a document claiming production readiness',
    change: (root) => write(root, 'docs/x.md', '# X\n\nAgentK is production-ready.\n'),
    check: 'no-readiness-claims',
    detail: /docs\/x\.md:3/,
  },
  {
    name: 'a broken shipped policy',
    change: (root) =>
      write(root, 'examples/policies/bad.toml', 'version = 1\npassword = hunter2-unquoted\n'),
    check: 'policy',
    detail: /^examples\/policies\/bad\.toml/,
    secret: 'hunter2-unquoted',
  },
];

describe('agentk readiness failure modes', () => {
  it.each(FAILURE_MODES)('fails exactly $check on $name', async (mode) => {
    const root = fixture(mode.change, mode.forced ?? []);
    const { code, stdout, stderr, report } = await readiness(root);
    expect(failing(report)).toEqual([mode.check]);
    expect(report.ok).toBe(false);
    expect(report.counts.FAIL).toBe(1);
    expect(code).toBe(1);
    const failed = report.checks.find((check) => check.status === 'FAIL');
    expect(failed?.detail).toMatch(mode.detail);
    if (mode.secret !== undefined) {
      expect(stdout).not.toContain(mode.secret);
      expect(stderr).not.toContain(mode.secret);
      // Not in text mode either.
      const text = await runCli(['readiness', '--root', root]);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain(`[FAIL] ${mode.check}`);
      expect(text.stdout).not.toContain(mode.secret);
    }
  });

  it('scans a tracked file that was deleted from the working tree (from the index)', async () => {
    const root = fixture((dir) => write(dir, 'old-notes.txt', `token ${FAKE_TOKEN}\n`));
    rmSync(join(root, 'old-notes.txt'));
    const { report, stdout } = await readiness(root);
    expect(failing(report)).toEqual(['tracked-secrets']);
    expect(only(report, 'tracked-secrets').detail).toMatch(/old-notes\.txt \(1\)/);
    expect(stdout).not.toContain(FAKE_TOKEN);
  });

  it('passes a document that says AgentK is not production-ready', async () => {
    const root = fixture((dir) =>
      write(dir, 'docs/x.md', '# X\n\nAgentK is not production-ready.\n'),
    );
    const { code, report } = await readiness(root);
    expect(only(report, 'no-readiness-claims').status).toBe('PASS');
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
  });

  it('reports planted fakes under test/ without failing', async () => {
    const root = fixture((dir) => write(dir, 'test/fixtures/token.txt', `${FAKE_TOKEN}\n`));
    const { code, stdout, report } = await readiness(root);
    const secrets = only(report, 'tracked-secrets');
    expect(secrets.status).toBe('PASS');
    expect(secrets.detail).toMatch(/^no credential formats outside the planted-test paths \(\d+/);
    expect(stdout).not.toContain(FAKE_TOKEN);
    expect(code).toBe(0);
  });
});

describe('agentk readiness signing key', () => {
  let keyDir: string;
  let keyFile: string;

  beforeAll(async () => {
    keyDir = join(scratch, 'k');
    mkdirSync(keyDir, { mode: 0o700 });
    keyFile = join(keyDir, 'agentk-signing-key');
    const made = await runCli(['keygen', '--out', keyFile]);
    expect(made.code).toBe(0);
    expect(made.stdout).not.toContain(readFileSync(keyFile, 'utf8').trim());
  });

  it('warns on the development key', async () => {
    const { code, report } = await readiness(baseline, {});
    const key = only(report, 'signing-key');
    expect(key.status).toBe('WARN');
    expect(key.detail).toMatch(/public development key/);
    expect(named(report, 'key-file-permissions')).toEqual([]);
    expect(code).toBe(0);
  });

  it('fails on the development key when AGENTK_REQUIRE_SIGNING_KEY=1', async () => {
    const { code, report } = await readiness(baseline, { AGENTK_REQUIRE_SIGNING_KEY: '1' });
    expect(failing(report)).toEqual(['signing-key']);
    expect(only(report, 'signing-key').detail).toMatch(/AGENTK_REQUIRE_SIGNING_KEY=1/);
    expect(report.ok).toBe(false);
    expect(code).toBe(1);
  });

  it('passes a key from agentk keygen, with or without AGENTK_REQUIRE_SIGNING_KEY', async () => {
    for (const env of [
      { AGENTK_SIGNING_KEY_FILE: keyFile },
      { AGENTK_SIGNING_KEY_FILE: keyFile, AGENTK_REQUIRE_SIGNING_KEY: '1' },
    ]) {
      const { code, stdout, report } = await readiness(baseline, env);
      const key = only(report, 'signing-key');
      expect(key.status).toBe('PASS');
      expect(key.detail).toMatch(/^file key /);
      expect(only(report, 'key-file-permissions').status).toBe('PASS');
      expect(failing(report)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(code).toBe(0);
      expect(stdout).not.toContain(readFileSync(keyFile, 'utf8').trim());
    }
  });

  it('fails key-file-permissions on a key file readable by others', async () => {
    chmodSync(keyFile, 0o644);
    try {
      const { code, stdout, report } = await readiness(baseline, {
        AGENTK_SIGNING_KEY_FILE: keyFile,
      });
      expect(failing(report)).toEqual(['key-file-permissions']);
      expect(only(report, 'signing-key').status).toBe('PASS');
      const permissions = only(report, 'key-file-permissions');
      expect(permissions.detail).toContain(keyFile);
      expect(permissions.detail).toMatch(/mode 0644/);
      expect(stdout).not.toContain(readFileSync(keyFile, 'utf8').trim());
      expect(code).toBe(1);
    } finally {
      chmodSync(keyFile, 0o600);
    }
  });

  it('fails key-file-permissions on a key in a directory others can write', async () => {
    chmodSync(keyDir, 0o777);
    try {
      const { code, report } = await readiness(baseline, { AGENTK_SIGNING_KEY_FILE: keyFile });
      expect(failing(report)).toEqual(['key-file-permissions']);
      expect(only(report, 'key-file-permissions').detail).toMatch(
        /key directory .* is writable by group or others \(mode 0777\)/,
      );
      expect(code).toBe(1);
    } finally {
      chmodSync(keyDir, 0o700);
    }
  });

  it('fails signing-key on a configured key file that is missing', async () => {
    const missing = join(keyDir, 'no-such-key');
    const { code, report } = await readiness(baseline, { AGENTK_SIGNING_KEY_FILE: missing });
    expect(failing(report)).toEqual(['signing-key']);
    expect(only(report, 'signing-key').detail).toContain(missing);
    expect(code).toBe(1);
  });
});

describe('agentk readiness on the real checkout', () => {
  it('defaults to this package and finds no tracked run output, keys or secrets', async () => {
    const ran = await runCli(['readiness', '--json']);
    const report = JSON.parse(ran.stdout) as Report;
    expect(report.counts).toEqual(summarize(report.checks));
    // Documents may still be in progress, so only the checks that do not depend on them.
    expect(only(report, 'gitignore').status).toBe('PASS');
    expect(only(report, 'tracked-files').status).toBe('PASS');
    expect(only(report, 'tracked-secrets').status).toBe('PASS');
    expect(only(report, 'signing-key').status).toBe('WARN');
    for (const check of [...named(report, 'policy'), ...named(report, 'manifest')]) {
      expect(check.status, check.detail).toBe('PASS');
    }
  });
});
