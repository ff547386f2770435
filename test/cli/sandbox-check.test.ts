// `agentk sandbox-check`, through the binary: what the host can enforce, and an exit status
// that says whether --sandbox would work.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, sandboxUnavailable } from '../helpers/sandbox.js';

const run = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [BIN, 'sandbox-check', ...args], { encoding: 'utf8', env });

describe('agentk sandbox-check', () => {
  it('exits 1 with the line --sandbox would fail with when bwrap is not on PATH', () => {
    const result = run([], { PATH: '/nonexistent' });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/bubblewrap\s+not found/);
    expect(result.stdout).toContain('--sandbox: would fail: bubblewrap (bwrap) is not installed');
  });

  it.skipIf(sandboxUnavailable() !== null)(
    'reports bwrap, namespaces and limits, and exits 0 where --sandbox works',
    () => {
      const result = run(['--json'], { PATH: process.env.PATH ?? '' });
      expect(result.status).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report).toMatchObject({
        ok: true,
        userNamespaces: true,
        networkNamespaces: true,
        missing: null,
      });
      expect(report.bwrap.version).toMatch(/^\d+\.\d+/);
      const plain = run([], { PATH: process.env.PATH ?? '' });
      expect(plain.stdout).toContain('--sandbox: works on this host');
      // cgroup v2: whether it is mounted, and whether our group is delegated to us.
      expect(typeof report.cgroup.mounted).toBe('boolean');
      expect(typeof report.cgroup.delegated).toBe('boolean');
      expect(plain.stdout).toMatch(
        /cgroup v2\s+(mounted; our group \S+|not mounted \(v1 or hybrid hierarchy\))\n/,
      );
      expect(plain.stdout).toMatch(
        report.cgroup.delegated
          ? /cgroup delegation\s+memory, pids.* delegated and writable/
          : /cgroup delegation\s+no: cgroup v2 .*rlimits enforce/,
      );
    },
  );
});
