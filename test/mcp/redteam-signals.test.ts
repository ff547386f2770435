// The red-team findings about signals (issue 13: 13), through the proxy binary: every
// terminating signal seals the trace and stops the server; SIGUSR1 opens no inspector.

import { describe, expect, it } from 'vitest';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { binarySession } from '../helpers/binary.js';

const tool = { name: 'lookup', description: 'Look a word up.', inputSchema: { type: 'object' } };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wait until the process is gone (checked every 20 ms, for up to 10 s). */
async function gone(pid: number): Promise<boolean> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('the proxy under signals', () => {
  for (const signal of ['SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const) {
    it(`${signal}: seals the trace and stops the server`, async () => {
      const s = binarySession({ 'tools/list': { tools: [tool] } });
      await s.initialize();
      await s.request('tools/list');
      const pid = s.serverPid();
      expect(pid).toBeGreaterThan(0);
      s.child.kill(signal);
      const exit = await s.close();
      expect(exit.signal).toBeNull();
      expect(exit.stderr).toContain(`stopped by ${signal}`);
      // A chain that verifies has its seal: an unsealed log fails as `unsealed`.
      expect(verifyLogFile(s.trace).ok).toBe(true);
      expect(await gone(pid as number)).toBe(true);
    });
  }

  it('SIGUSR1: opens no inspector and keeps serving', async () => {
    const s = binarySession({ 'tools/list': { tools: [tool] } });
    await s.initialize();
    s.child.kill('SIGUSR1');
    // Still answering after the signal (processed in order before this request).
    expect(((await s.request('tools/list')).result as { tools: unknown[] }).tools).toHaveLength(1);
    const exit = await s.close();
    expect(exit.code).toBe(0);
    expect(exit.stderr).not.toMatch(/Debugger listening|inspector/i);
  });
});
