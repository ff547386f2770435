// One trace write per chunk of input, through the real proxy binary: a hook preloaded in
// the proxy (test/fixtures/mcp/trace-hook.mjs) logs, in order, each chunk it reads, each
// write(2) to the trace with the events it carries, and the bytes it hands each pipe. The
// events of a chunk leave in one write, and no line leaves before its event is written;
// when that write fails, nothing the chunk decided reaches the client or the server.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { type BinarySession, binarySession } from '../helpers/binary.js';
import { traceSyscalls } from '../helpers/proxy.js';

type Message = Record<string, unknown>;
interface Entry {
  readonly read?: number;
  readonly trace?: string[];
  readonly traceFailed?: string[];
  readonly to?: 'client' | 'server';
  readonly text?: string;
}

const TOOLS = Array.from({ length: 600 }, (_, i) => ({
  name: `tool${i}`,
  description: `Tool number ${i}.`,
  inputSchema: { type: 'object' },
}));
const HOOK = pathToFileURL(join(PACKAGE_ROOT, 'test', 'fixtures', 'mcp', 'trace-hook.mjs')).href;
const SCRIPT = {
  'resources/read': { contents: [{ uri: 'mem://any', text: 'hello' }] },
  'tools/list': { tools: TOOLS },
};
const URIS = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'].map((name) => `mem://${name}`);

/** The proxy binary with the hook; a trace write carrying `failOn` fails (ENOSPC). */
function start(args: readonly string[], failOn?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'agentk-chunk-'));
  const writes = join(dir, 'writes.log');
  const session = binarySession(SCRIPT, {
    dir,
    args,
    nodeArgs: ['--import', HOOK],
    env: {
      AGENTK_TEST_TRACE: '/trace.jsonl',
      AGENTK_TEST_WRITES: writes,
      ...(failOn ? { AGENTK_TEST_TRACE_FAIL: failOn } : {}),
    },
  });
  const log = (): Entry[] =>
    existsSync(writes)
      ? readFileSync(writes, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Entry)
      : [];
  return { session, log };
}

/** Every request in a single write to the proxy's input: one chunk. */
function sendChunk(session: BinarySession, uris: readonly string[]): void {
  const lines = uris.map((uri) =>
    JSON.stringify({ jsonrpc: '2.0', id: uri, method: 'resources/read', params: { uri } }),
  );
  session.child.stdin?.write(`${lines.join('\n')}\n`);
}

/** The JSON messages in bytes handed to a pipe. */
const messages = (text: string): Message[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Message);

/** The event a line needs on disk before it leaves: its request's, or its answer's. */
function needed(entry: Entry, message: Message): string | null {
  const uri = (message.params as Message | undefined)?.uri;
  if (entry.to === 'server' && message.method === 'resources/read')
    return `resource.read srv/${uri}`;
  if (entry.to === 'client' && typeof message.id === 'string' && message.id.startsWith('mem://')) {
    return `resource.response srv/${message.id}`;
  }
  return null;
}

/** Lines that left before their event was written. */
function unrecordedLines(log: readonly Entry[]): string[] {
  const written = new Set<string>();
  const early: string[] = [];
  for (const entry of log) {
    for (const event of entry.trace ?? []) written.add(event);
    for (const message of entry.to ? messages(entry.text ?? '') : []) {
      const event = needed(entry, message);
      if (event !== null && !written.has(event)) early.push(`${entry.to}: ${event}`);
    }
  }
  return early;
}

/**
 * The chunks read, each with the trace writes its handling made (the seal, written when
 * the server exits, aside) and whether a line left before them.
 */
function chunks(log: readonly Entry[]): { writes: number; lineFirst: boolean }[] {
  const found: { writes: number; lineFirst: boolean; sent: boolean }[] = [];
  for (const entry of log) {
    const current = found.at(-1);
    if (entry.read !== undefined) found.push({ writes: 0, lineFirst: false, sent: false });
    else if (current && entry.trace && !entry.trace.every((event) => event === 'seal')) {
      current.writes += 1;
      if (current.sent) current.lineFirst = true;
    } else if (current && entry.to) current.sent = true;
  }
  return found.map(({ writes, lineFirst }) => ({ writes, lineFirst }));
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each([
  ['', []],
  [' (--fsync)', ['--fsync']],
])('the proxy binary, one trace write per chunk%s', (_name, args) => {
  it('writes the events of a chunk with one write, before any line they allow leaves', async () => {
    const { session, log } = start(args);
    await session.initialize();
    sendChunk(session, URIS);
    const answers = await Promise.all(URIS.map((uri) => session.waitFor((m) => m.id === uri)));
    const { code } = await session.close();
    expect(code).toBe(0);
    expect(answers.every((answer) => answer.result !== undefined)).toBe(true);

    const entries = log();
    const requests = URIS.map((uri) => `resource.read srv/${uri}`);
    const carrying = entries.filter((e) => e.trace?.some((event) => requests.includes(event)));
    expect(carrying).toEqual([{ trace: requests }]);
    expect(unrecordedLines(entries)).toEqual([]);
    const handled = chunks(entries);
    expect(handled.filter((chunk) => chunk.writes > 1 || chunk.lineFirst)).toEqual([]);
    // Fewer writes than events: the answers, too, came in fewer chunks than one each.
    const traceWrites = entries.filter((e) => e.trace).length;
    const result = verifyLogFile(session.trace);
    expect(result.ok && result.events).toBe(2 * URIS.length);
    expect(traceWrites).toBeLessThan(2 * URIS.length + 1);
    // Every answer the client got has its event in the trace.
    const responses = traceSyscalls(session.trace)
      .filter((call) => call.kind === 'resource.response')
      .map((call) => call.target);
    expect(responses.sort()).toEqual(URIS.map((uri) => `srv/${uri}`).sort());
  });

  it('releases nothing a chunk decided when its events cannot be written', async () => {
    const { session, log } = start(args, 'mem://boom');
    await session.initialize();
    const first = await session.request('resources/read', { uri: 'mem://first' }, 'first');
    expect(first.result).toBeDefined();
    const chunk = ['mem://k1', 'mem://boom', 'mem://k2'];
    sendChunk(session, chunk);
    await until(() => log().some((entry) => entry.traceFailed));
    const { code, stderr } = await session.close();

    expect(code).toBe(1);
    expect(stderr).toContain('the trace cannot be written');
    expect(stderr).toContain('ENOSPC');
    const entries = log();
    expect(entries.filter((entry) => entry.traceFailed)).toEqual([
      { traceFailed: chunk.map((uri) => `resource.read srv/${uri}`) },
    ]);
    // Not one of the chunk's requests reached the server, nor an answer the client.
    const leaked = entries
      .filter((entry) => entry.to)
      .flatMap((entry) => chunk.filter((uri) => entry.text?.includes(uri)));
    expect(leaked).toEqual([]);
    expect(session.received().filter((line) => chunk.some((uri) => line.includes(uri)))).toEqual(
      [],
    );
    expect(session.lines.filter((m) => chunk.includes(m.id as string))).toEqual([]);
    // The trace holds what was written before, intact, and no seal: nothing may follow.
    const result = verifyLogFile(session.trace);
    expect(!result.ok && [result.code, result.events]).toEqual(['unsealed', 2]);
    expect(traceSyscalls(session.trace).map((call) => call.target)).toEqual([
      'srv/mem://first',
      'srv/mem://first',
    ]);
  });
});

describe('the proxy binary, a listing of many descriptors', () => {
  it('writes the events of each slice of a long listing together, before its answer', async () => {
    const { session, log } = start([]);
    await session.initialize();
    const listed = await session.request('tools/list', {}, 'list');
    expect((listed.result as { tools: unknown[] }).tools).toHaveLength(TOOLS.length);
    await session.close();

    const entries = log();
    const described = entries.filter((e) => e.trace?.some((event) => event.startsWith('tool.')));
    const events = described.flatMap((e) => e.trace ?? []);
    expect(events.filter((event) => event.startsWith('tool.describe'))).toHaveLength(600);
    // Described 256 at a time (server-side.ts), each slice in one write.
    expect(described.length).toBeLessThanOrEqual(3);
    const answer = entries.findIndex((e) => e.to === 'client' && e.text?.includes('"id":"list"'));
    const lastDescribed = entries.lastIndexOf(described.at(-1) as Entry);
    expect(answer).toBeGreaterThan(lastDescribed);
  });
});
