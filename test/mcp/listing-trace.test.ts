// Descriptors in the flight log once per version: listing an unchanged catalogue again
// adds next to nothing to the trace, a changed descriptor is recorded again, and the
// review commands read the shorter trace as they read any other.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rawSession, traceEvents } from '../helpers/proxy.js';

type Msg = Record<string, unknown>;

describe('a session that lists its tools five times', () => {
  it('records each descriptor once, and again only when it changes', async () => {
    const s = await rawSession({ pinsDir: mkdtempSync(join(tmpdir(), 'agentk-pins-')) });
    await s.initialize();
    // The bytes of the events (checkpoint lines, written as time passes, aside).
    const eventBytes = () =>
      readFileSync(s.trace, 'utf8')
        .split('\n')
        .filter((line) => !line.startsWith('{"checkpoint":'))
        .join('\n').length;
    const sizes: number[] = [eventBytes()];
    const listed: Msg[] = [];
    for (let i = 0; i < 5; i += 1) {
      listed.push(await s.request('tools/list'));
      sizes.push(eventBytes());
    }
    // The client sees the same list every time.
    for (const list of listed) expect(list.result).toEqual(listed[0]?.result);
    const first = (sizes[1] as number) - (sizes[0] as number);
    const later = (sizes[5] as number) - (sizes[1] as number);
    expect(first).toBeGreaterThan(1000);
    expect(later).toBeLessThan(first / 20);

    // A changed descriptor is a new version: recorded, and the call to it refused.
    await s.request('tools/call', { name: 'mutate', arguments: {} });
    await s.waitFor((m) => m.method === 'notifications/tools/list_changed');
    await s.request('tools/list');
    const call = await s.request('tools/call', { name: 'echo', arguments: { n: 1 } });
    expect((call.result as { isError?: boolean }).isError).toBe(true);
    await s.close();

    const events = traceEvents(s.trace);
    const mutate = events.find((e) => e.syscall?.kind === 'tool.invoke');
    const describes = events.filter((e) => e.syscall?.kind === 'tool.describe');
    const tools = ((listed[0] as Msg).result as { tools: unknown[] }).tools.length;
    // Five lists: each tool once, and echo, the first described, again once the context it
    // entered was no longer empty (its context labels differ).
    expect(describes.filter((e) => e.step < mutate.step)).toHaveLength(tools + 1);
    const echo = describes.filter((e) => e.syscall.target === 'fault/echo');
    expect(echo.map((e) => [e.syscall.detail.pin, e.syscall.detail.context_labels])).toEqual([
      ['first-use', []],
      ['pinned', ['untrusted']],
      ['changed', ['untrusted']],
    ]);

    // The review commands take the trace as they take any other.
    for (const argv of [
      ['verify', s.trace],
      ['trace-inspect', s.trace, '--json'],
      ['replay', s.trace, '--json'],
      ['fork-replay', s.trace, '--policy', 'examples/agentk.policy.toml', '--json'],
    ]) {
      const result = await runCli(argv);
      expect([argv[0], result.code, result.stderr]).toEqual([argv[0], 0, '']);
    }
  });
});
