// Property-based fuzzing of the frame reader, the message classifier, and the proxy as a
// whole: no input crashes it, every request is answered, and nothing reaches the server
// that the kernel has not mediated.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineReader } from '../../src/mcp/framing.js';
import { parseMessage } from '../../src/mcp/jsonrpc.js';
import { rawSession } from '../helpers/proxy.js';

function frames(chunks: Buffer[], max: number): string[] {
  const out: string[] = [];
  const reader = new LineReader(max, {
    line: (text) => out.push(text === null ? '<invalid utf-8>' : `L:${text}`),
    oversize: (_prefix, bytes) => out.push(`O:${bytes}`),
  });
  for (const chunk of chunks) reader.push(chunk);
  reader.end();
  return out;
}

describe('LineReader', () => {
  it('yields the same frames however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4000 }),
        fc.array(fc.nat(4000), { maxLength: 20 }),
        (bytes, cuts) => {
          const whole = frames([Buffer.from(bytes)], 512);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks: Buffer[] = [];
          let last = 0;
          for (const point of points) {
            chunks.push(Buffer.from(bytes.subarray(last, point)));
            last = point;
          }
          chunks.push(Buffer.from(bytes.subarray(last)));
          expect(frames(chunks, 512)).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never buffers more than the cap for a line without newlines', () => {
    const out = frames([Buffer.alloc(10 * 1024 * 1024, 0x61)], 1024);
    expect(out).toEqual([`O:${10 * 1024 * 1024}`]);
  });
});

describe('parseMessage', () => {
  it('never throws, on text or on any JSON', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (line) => {
          const message = parseMessage(line);
          expect(['request', 'notification', 'response', 'invalid']).toContain(message.kind);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

const METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'tasks/get',
  'sampling/createMessage',
  'tools/delete',
];

const request = fc.record({
  method: fc.oneof(fc.constantFrom(...METHODS), fc.string({ maxLength: 20 })),
  params: fc.oneof(
    fc.constant(undefined),
    fc.record({
      name: fc.oneof(fc.constantFrom('echo', 'env', 'nope'), fc.string({ maxLength: 10 })),
      arguments: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
      uri: fc.string({ maxLength: 20 }),
      agentk: fc.oneof(
        fc.constant(undefined),
        fc.record({ labels: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }) }),
      ),
    }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
});

const clientLine = fc.oneof(
  { weight: 6, arbitrary: request.map((r) => ({ kind: 'request' as const, ...r })) },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ kind: 'raw' as const, text })),
  },
  {
    weight: 1,
    arbitrary: fc
      .jsonValue({ maxDepth: 2 })
      .map((v) => ({ kind: 'raw' as const, text: JSON.stringify(v) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        'notifications/initialized',
        'notifications/cancelled',
        'notifications/whatever',
      )
      .map((method) => ({
        kind: 'raw' as const,
        text: JSON.stringify({ jsonrpc: '2.0', method }),
      })),
  },
);

describe('the stdio proxy under fuzzed clients', () => {
  it('answers every request, never crashes, and forwards only what the kernel mediated', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(clientLine, { minLength: 1, maxLength: 25 }), async (messages) => {
        const log = join(mkdtempSync(join(tmpdir(), 'agentk-fuzz-')), 'received.log');
        const s = await rawSession({ env: { FAULT_LOG: log }, responseTimeoutMs: 3000 });
        await s.initialize();
        const ids: string[] = [];
        messages.forEach((message, i) => {
          if (message.kind === 'raw') {
            s.send(message.text.replace(/\n/g, ' '));
            return;
          }
          const id = `f${i}`;
          ids.push(id);
          s.send(
            JSON.stringify({
              jsonrpc: '2.0',
              id,
              method: message.method,
              ...(message.params !== undefined ? { params: message.params } : {}),
            }),
          );
        });
        for (const id of ids) await s.waitFor((m) => m.id === id && !('method' in m), 8000);
        const exit = await s.close();
        expect(exit.code).toBe(0);
        for (const id of ids)
          expect(s.lines.filter((m) => m.id === id && !('method' in m))).toHaveLength(1);

        // What the server received must be mediated: only contract methods, and every
        // tools/call the server saw was allowed by the kernel for that tool.
        const received = readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { method?: string; params?: { name?: string } });
        const events = readFileSync(s.trace, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line));
        const allowedCalls = events
          .filter((e) => e.syscall?.kind === 'tool.invoke' && e.decision.verdict === 'allow')
          .map((e) => e.syscall.target);
        for (const message of received) {
          expect([
            'initialize',
            'notifications/initialized',
            'notifications/cancelled',
            'ping',
            'tools/list',
            'tools/call',
            'resources/list',
            'resources/read',
            'prompts/list',
            'prompts/get',
            'completion/complete',
            'resources/subscribe',
            'resources/unsubscribe',
            'logging/setLevel',
          ]).toContain(message.method);
          expect(JSON.stringify(message)).not.toMatch(/"agentk"/);
          if (message.method === 'tools/call') {
            expect(allowedCalls).toContain(`fault/${message.params?.name}`);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});
