// `agentk release-audit` on this package: every command's smoke run passes, --quick skips
// only the test suite, and --strict with AGENTK_REQUIRE_SIGNING_KEY=1 rejects the
// development key but accepts a key from `agentk keygen`. Each audit runs biome, tsc and
// every command, so the runs are few and the timeouts long.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Check, summarize } from '../../src/release/readiness.js';
import { runCli } from '../helpers/cli.js';

interface AuditReport {
  ok: boolean;
  strict: boolean;
  counts: { PASS: number; WARN: number; FAIL: number };
  checks: Check[];
}

/** The smoke checks, in the order the audit runs them. */
const SMOKE = [
  'demo',
  'verify',
  'signatures-pinning',
  'trusted-signers',
  'secret-refs',
  'secret-store',
  'inspect',
  'why',
  'view',
  'runs',
  'replay',
  'fork-replay',
  'behavior-fork',
  'policy-diff',
  'mcp-server',
  'proxy-session',
  'proxy-signatures',
  'proxy-error-redaction',
  'killer-demo',
  'shim-eval',
  'eval',
];

const AUDIT_TIMEOUT = 420_000;

const scratch: string[] = [];

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function audit(argv: readonly string[], env: Record<string, string> = {}) {
  // The audit starts biome and tsc: they need PATH to find node.
  const ran = await runCli(['release-audit', ...argv, '--json'], {
    PATH: process.env.PATH ?? '',
    ...env,
  });
  const report = JSON.parse(ran.stdout) as AuditReport;
  return { ...ran, report };
}

function only(report: AuditReport, name: string): Check {
  const found = report.checks.filter((check) => check.check === name);
  expect(found, `exactly one ${name} check`).toHaveLength(1);
  return found[0] as Check;
}

describe('agentk release-audit', () => {
  it(
    '--quick: every smoke run passes and only the test suite is skipped',
    async () => {
      const { code, report } = await audit(['--quick']);
      const names = report.checks.map((check) => check.check);

      for (const name of SMOKE) {
        const check = only(report, name);
        expect(check.status, `${name}: ${check.detail}`).toBe('PASS');
      }
      // The smoke checks come last, in order, after readiness and the development checks.
      expect(names.slice(-SMOKE.length)).toEqual(SMOKE);

      expect(only(report, 'test-suite')).toEqual({
        status: 'WARN',
        check: 'test-suite',
        detail: 'skipped (--quick)',
      });
      expect(['PASS', 'FAIL']).toContain(only(report, 'format-lint').status);
      expect(['PASS', 'FAIL']).toContain(only(report, 'typecheck').status);
      expect(names.indexOf('format-lint')).toBeLessThan(names.indexOf('typecheck'));
      expect(names.indexOf('typecheck')).toBeLessThan(names.indexOf('test-suite'));
      // Each proxy guard test is a check of its own, run even with --quick.
      const guards = report.checks.filter((check) => check.check === 'proxy-guard');
      expect(guards.length).toBeGreaterThanOrEqual(30);
      for (const guard of guards) expect(guard.status, guard.detail).toBe('PASS');

      // Readiness comes first, every check prefixed; the development key is a WARN.
      const readiness = names.slice(0, names.indexOf('format-lint'));
      expect(readiness.length).toBeGreaterThan(0);
      for (const name of readiness) expect(name).toMatch(/^readiness\//);
      expect(only(report, 'readiness/signing-key').status).toBe('WARN');

      // The summary matches the checks, and the exit code matches the summary.
      expect(report.strict).toBe(false);
      expect(report.counts).toEqual(summarize(report.checks));
      expect(report.counts.PASS + report.counts.WARN + report.counts.FAIL).toBe(
        report.checks.length,
      );
      expect(report.ok).toBe(report.counts.FAIL === 0);
      expect(code).toBe(report.ok ? 0 : 1);
    },
    AUDIT_TIMEOUT,
  );

  // One audit per test: each runs biome, tsc, the guard tests and every command, so two in
  // one test would share a single timeout on a busy machine.
  it(
    '--strict with AGENTK_REQUIRE_SIGNING_KEY=1: fails the development key',
    async () => {
      const development = await audit(['--strict', '--quick'], {
        AGENTK_REQUIRE_SIGNING_KEY: '1',
      });
      expect(development.report.strict).toBe(true);
      const devKey = only(development.report, 'readiness/signing-key');
      expect(devKey.status).toBe('FAIL');
      expect(devKey.detail).toMatch(/development key.*AGENTK_REQUIRE_SIGNING_KEY=1/);
      expect(development.report.counts).toEqual(summarize(development.report.checks));
      expect(development.report.ok).toBe(false);
      expect(development.code).toBe(1);
    },
    AUDIT_TIMEOUT,
  );

  it(
    '--strict with AGENTK_REQUIRE_SIGNING_KEY=1: passes a keygen key',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'agentk-audit-key-'));
      scratch.push(dir);
      mkdirSync(join(dir, 'k'), { mode: 0o700 });
      const keyFile = join(dir, 'k', 'agentk-signing-key');
      const made = await runCli(['keygen', '--out', keyFile, '--json']);
      expect(made.code).toBe(0);
      const { fingerprint } = JSON.parse(made.stdout) as { fingerprint: string };
      const seed = readFileSync(keyFile, 'utf8').trim();

      const keyed = await audit(['--strict', '--quick'], {
        AGENTK_SIGNING_KEY_FILE: keyFile,
        AGENTK_REQUIRE_SIGNING_KEY: '1',
      });
      const key = only(keyed.report, 'readiness/signing-key');
      expect(key.status, key.detail).toBe('PASS');
      expect(key.detail).toBe(`file key ${fingerprint}`);
      expect(only(keyed.report, 'readiness/key-file-permissions').status).toBe('PASS');
      const pinning = only(keyed.report, 'signatures-pinning');
      expect(pinning.status, pinning.detail).toBe('PASS');
      for (const name of SMOKE) {
        const check = only(keyed.report, name);
        expect(check.status, `${name}: ${check.detail}`).toBe('PASS');
      }
      expect(keyed.stdout).not.toContain(seed);
      expect(keyed.stderr).not.toContain(seed);
      // --strict fails on any WARN, and --quick always leaves the skipped test suite as one.
      expect(keyed.report.strict).toBe(true);
      expect(only(keyed.report, 'test-suite').status).toBe('WARN');
      expect(keyed.report.ok).toBe(false);
      expect(keyed.code).toBe(1);
    },
    AUDIT_TIMEOUT,
  );
});
