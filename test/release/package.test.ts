// The package a newcomer installs: `npm pack` of this checkout, installed into an empty
// project outside the repository (as `npm install agentk-kernel` would), runs the demo,
// imports and requires, and its readiness says it is an installed copy instead of failing
// on the repository's files. No lifecycle script runs for the consumer.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from '../../src/paths.js';
import { packAndInstall } from '../helpers/package.js';

let root: string;
let project: string;
let installLog: string;
const env = () => ({ ...process.env, AGENTK_HOME: join(root, 'state') });

function agentk(args: readonly string[], cwd = project) {
  return spawnSync(join(project, 'node_modules', '.bin', 'agentk'), args, {
    cwd,
    env: env(),
    encoding: 'utf8',
  });
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'agentk-package-'));
  project = join(root, 'consumer');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
  );
  installLog = packAndInstall(root, { project }, env());
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the installed package', () => {
  it('is named so that npx and npm install find AgentK, and runs no install script', () => {
    const manifest = JSON.parse(
      readFileSync(join(project, 'node_modules', PACKAGE_NAME, 'package.json'), 'utf8'),
    );
    expect(manifest.name).toBe(PACKAGE_NAME);
    expect(manifest.bin).toEqual({ agentk: 'bin/agentk.js' });
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) {
      expect(manifest.scripts?.[script], script).toBeUndefined();
    }
    expect(installLog).not.toMatch(/prepare|tsc/);
    expect(existsSync(join(project, 'node_modules', PACKAGE_NAME, 'dist', 'index.d.ts'))).toBe(
      true,
    );
  });

  it('runs the demo outside the repository and names itself by its command', () => {
    const work = join(root, 'work');
    mkdirSync(work);
    const run = agentk(['demo'], work);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('DENY   network.send');
    expect(run.stdout).toContain('Verify it:  agentk verify ');
    expect(run.stdout).not.toContain('npx');
    const verify = agentk(['verify', join(work, '.agentk', 'runs', 'latest.jsonl')], work);
    expect(verify.status, verify.stderr).toBe(0);
  });

  it('can be imported and required', () => {
    const script = `
      const required = require('${PACKAGE_NAME}');
      import('${PACKAGE_NAME}').then((imported) => {
        console.log(typeof required.Kernel, typeof imported.Kernel, imported.Kernel === required.Kernel);
      });`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function function true');
  });

  it('says it is an installed copy when asked for readiness, instead of failing', () => {
    const run = agentk(['readiness', '--json']);
    expect(run.status, run.stdout).toBe(0);
    const report = JSON.parse(run.stdout) as { checks: { status: string; check: string }[] };
    expect(report.checks[0]).toMatchObject({ status: 'WARN', check: 'installed-package' });
    expect(report.checks.some((c) => c.status === 'FAIL')).toBe(false);
    expect(report.checks.filter((c) => c.check === 'policy').length).toBeGreaterThan(0);
  });
});
