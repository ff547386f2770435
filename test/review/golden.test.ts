// Golden outputs of the review commands on a committed demo log. Regenerate after an
// intended change with: UPDATE_GOLDEN=1 npx vitest run test/review/golden.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';

const LOG = 'test/fixtures/demo-log.jsonl';
const GOLDEN = join(PACKAGE_ROOT, 'test', 'fixtures', 'golden');

const CASES: [string, string[]][] = [
  ['verify', ['verify', LOG]],
  [
    'verify-signatures',
    ['verify-signatures', LOG, '--trusted-key-manifest', 'examples/trusted-signers.toml'],
  ],
  ['trace-inspect', ['trace-inspect', LOG]],
  ['trace-inspect.json', ['trace-inspect', LOG, '--json']],
  ['replay', ['replay', LOG]],
  ['replay.json', ['replay', LOG, '--json']],
  [
    'fork-replay-research',
    ['fork-replay', LOG, '--policy', 'examples/policies/research-agent.toml'],
  ],
  [
    'fork-replay-browser.json',
    ['fork-replay', LOG, '--policy', 'examples/policies/browser-agent.toml', '--json'],
  ],
  [
    'fork-replay-behavior',
    ['fork-replay-behavior', LOG, '--behavior', 'examples/replay-behavior-overrides.json'],
  ],
  [
    'policy-diff-default-research',
    ['policy-diff', 'examples/agentk.policy.toml', 'examples/policies/research-agent.toml'],
  ],
];

describe('review commands on the demo log', () => {
  for (const [name, argv] of CASES) {
    it(`${argv[0]} matches golden/${name}.txt`, async () => {
      const { code, stdout, stderr } = await runCli(argv);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const path = join(GOLDEN, `${name}.txt`);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) writeFileSync(path, stdout);
      expect(stdout).toBe(readFileSync(path, 'utf8'));
    });
  }

  it('never shows raw inputs, handle ids or raw keys in the review views', () => {
    const log = readFileSync(join(PACKAGE_ROOT, LOG), 'utf8');
    const handleId = /secret_fd_[0-9a-f]{32}/.exec(log)?.[0] as string;
    expect(handleId).toBeDefined();
    for (const [name] of CASES) {
      const text = readFileSync(join(GOLDEN, `${name}.txt`), 'utf8');
      expect(text, name).not.toContain(handleId);
      expect(text, name).not.toContain(
        'e9a292422974d5663627c97302ff7ca67b0a0ca2ac1c293bfa618107f53e2963',
      );
      expect(text, name).not.toMatch(/ignore your previous instructions|BEGIN OPENSSH/);
    }
  });
});

describe('trace-inspect on hostile targets', () => {
  it('escapes control characters so a target cannot forge rows', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { Kernel } = await import('../../src/kernel/kernel.js');
    const { loadPolicyFile } = await import('../../src/policy/load.js');
    const { developmentSigner } = await import('../../src/evidence/keys.js');
    const path = join(mkdtempSync(join(tmpdir(), 'agentk-inspect-')), 'log.jsonl');
    const kernel = new Kernel({
      policy: loadPolicyFile(join(PACKAGE_ROOT, 'examples', 'agentk.policy.toml')),
      signer: developmentSigner(),
      trace: { path },
    });
    kernel.syscall({
      kind: 'tool.invoke',
      target: 'fs/read\n   9  allow  fake-row\u001b[2J',
      args: {},
    });
    kernel.close();
    const { stdout } = await runCli(['trace-inspect', path]);
    expect(stdout).not.toContain('\u001b');
    expect(stdout).toContain('fs/read\\u000a');
    expect(stdout.split('\n').filter((line) => line.includes('fake-row'))).toHaveLength(1);
  });
});
