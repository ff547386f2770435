// The proxy binary signs checkpoints of its trace on its signing thread while a session
// is open, so a proxy killed mid-session leaves its receipts covered up to the last one.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { binarySession } from '../helpers/binary.js';
import { runCli } from '../helpers/cli.js';

const checkpointCounts = (trace: string): number[] =>
  readFileSync(trace, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"checkpoint":'))
    .map((line) => JSON.parse(line).checkpoint.event_count as number);

describe('the proxy binary', () => {
  it('checkpoints an idle session, and a killed one verifies covered up to its checkpoint', async () => {
    const s = binarySession({
      'tools/call': { echo: { content: [{ type: 'text', text: 'hi' }] } },
    });
    await s.initialize();
    await s.request('tools/list');
    await s.request('tools/call', { name: 'echo', arguments: {} });
    // The session is idle now: a checkpoint of everything so far follows (wait for it).
    const deadline = Date.now() + 20_000;
    const events = () => (verifyLogFile(s.trace) as { events: number }).events;
    while (Date.now() < deadline && (checkpointCounts(s.trace).at(-1) ?? 0) < events()) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const covered = checkpointCounts(s.trace).at(-1);
    expect(covered).toBe(events());
    s.child.kill('SIGKILL');
    await s.close();
    const result = verifyLogFile(s.trace);
    expect(result).toMatchObject({ ok: false, code: 'unsealed', covered });
    const signatures = await runCli(['verify-signatures', s.trace]);
    expect(signatures.code).toBe(3);
    expect(signatures.stdout).toContain('every event is covered by a signed checkpoint');
  }, 60_000);
});
