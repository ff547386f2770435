// The proxy's guards, each against a server (or client) that misbehaves on purpose.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { rawSession, traceEvents, traceText } from '../helpers/proxy.js';

type Msg = Record<string, unknown>;
const call = (name: string, args: Record<string, unknown> = {}) => ({ name, arguments: args });
const errorOf = (m: Msg) => m.error as { code: number; message: string } | undefined;
const resultOf = (m: Msg) =>
  m.result as { content?: { text: string }[]; isError?: boolean } | undefined;

describe('the stdio proxy, lifecycle', () => {
  it('serves only initialize and ping before the session is ready', async () => {
    const s = await rawSession();
    const early = await s.request('tools/list');
    expect(errorOf(early)?.code).toBe(-32002);
    expect((await s.request('ping')).result).toEqual({});
    await s.initialize();
    const tools = resultOf(await s.request('tools/list')) as unknown as { tools: unknown[] };
    expect(tools.tools.length).toBe(21);
    const exit = await s.close();
    expect(exit.code).toBe(0);
    expect(exit.seal).not.toBeNull();
  });

  it('refuses methods without a policy contract, and never forwards them', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'agentk-fault-')), 'received.log');
    const s = await rawSession({ env: { FAULT_LOG: log } });
    await s.initialize();
    for (const method of [
      'tasks/get',
      'tasks/result',
      'tasks/list',
      'tasks/cancel',
      'tools/delete',
    ]) {
      const answer = await s.request(method, { taskId: 't1' });
      expect(errorOf(answer)?.code, method).toBe(-32601);
    }
    await s.close();
    expect(readFileSync(log, 'utf8')).not.toMatch(/tasks\/|tools\/delete/);
  });

  it('negotiates the protocol versions 2024-11-05 through 2025-11-25', async () => {
    for (const version of ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']) {
      const s = await rawSession();
      const answer = await s.request('initialize', {
        protocolVersion: version,
        capabilities: {},
        clientInfo: { name: 't', version: '1' },
      });
      expect((answer.result as { protocolVersion: string }).protocolVersion).toBe(version);
      await s.close();
    }
    const s = await rawSession();
    const answer = await s.request('initialize', {
      protocolVersion: '1999-01-01',
      capabilities: {},
      clientInfo: { name: 't', version: '1' },
    });
    expect(errorOf(answer)?.code).toBe(-32008);
    await s.close();
  });
});

describe('the stdio proxy, hostile client input', () => {
  it('answers malformed JSON with -32700 and a batch with -32600, and goes on', async () => {
    const s = await rawSession();
    s.send('{this is not json');
    s.send(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }]));
    const parse = await s.waitFor((m) => errorOf(m)?.code === -32700);
    const batch = await s.waitFor((m) => errorOf(m)?.code === -32600);
    expect(parse.id).toBeNull();
    expect(errorOf(batch)?.message).toMatch(/batches are not supported/);
    expect((await s.request('ping')).result).toEqual({});
    await s.close();
  });

  it('refuses unbounded ids and a frame over the cap, and goes on', async () => {
    const s = await rawSession({ maxMessageBytes: 4096 });
    s.send(JSON.stringify({ jsonrpc: '2.0', id: 'x'.repeat(300), method: 'ping' }));
    s.send(JSON.stringify({ jsonrpc: '2.0', id: 1.5, method: 'ping' }));
    await s.waitFor((m) => errorOf(m)?.message.includes('id must be') === true);
    s.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'big',
        method: 'ping',
        params: { pad: 'p'.repeat(10_000) },
      }),
    );
    const big = await s.waitFor((m) => errorOf(m)?.code === -32007);
    expect(big.id).toBe('big');
    expect((await s.request('ping')).result).toEqual({});
    await s.close();
  });

  it('strips AgentK metadata before forwarding, and lets it only add restrictions', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'agentk-fault-')), 'received.log');
    const s = await rawSession({ env: { FAULT_LOG: log } });
    await s.initialize();
    const answer = await s.request('tools/call', {
      ...call('show-vars', { x: 1 }),
      agentk: { labels: ['trusted'] },
      _agentk: { intent: 'x' },
      _meta: { agentk: { labels: ['private'] }, progressToken: 7 },
    });
    expect(resultOf(answer)?.isError).toBeUndefined();
    const bad = await s.request('tools/call', {
      ...call('echo'),
      agentk: { labels: ['nonsense'] },
    });
    expect(errorOf(bad)?.code).toBe(-32009);
    await s.close();
    const received = readFileSync(log, 'utf8');
    expect(received).not.toMatch(/agentk/i);
    expect(received).toContain('"progressToken":7');
    const events = traceEvents(s.trace);
    const echo = events.find((e) => e.syscall?.kind === 'tool.invoke');
    expect(echo.syscall.labels).toEqual(['private']);
  });

  it('answers a denied call promptly with isError and a structured denial; the server never sees it', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'agentk-fault-')), 'received.log');
    const s = await rawSession({ env: { FAULT_LOG: log } });
    await s.initialize();
    const denied = await s.request('tools/call', {
      ...call('echo', { to: 'x' }),
      agentk: { labels: ['secret'] },
    });
    const result = denied.result as {
      isError: boolean;
      content: { text: string }[];
      structuredContent: { agentk: Msg };
    };
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(
      /^AgentK denied tool\.invoke fault\/echo: .+ \[rule deny-private-egress, step \d+\]$/,
    );
    expect(result.structuredContent.agentk).toMatchObject({
      denied: true,
      syscall: 'tool.invoke',
      target: 'fault/echo',
      rule: 'deny-private-egress',
    });
    await s.close();
    expect(readFileSync(log, 'utf8')).not.toContain('"to":"x"');
  });
});

describe('the stdio proxy, hostile server', () => {
  it('turns a malformed, mismatched or misshapen reply into a sanitized error', async () => {
    const s = await rawSession({ responseTimeoutMs: 1500 });
    await s.initialize();
    const shape = await s.request('tools/call', call('wrong-shape'));
    expect(errorOf(shape)?.code).toBe(-32005);
    const garbage = await s.request('tools/call', call('garbage'));
    expect(errorOf(garbage)?.code).toBe(-32001); // unparseable, no id: the request times out
    const wrongId = await s.request('tools/call', call('wrong-id'));
    expect(errorOf(wrongId)?.code).toBe(-32001);
    expect(s.proxy.stats.malformedFromServer).toBeGreaterThanOrEqual(1);
    expect(s.proxy.stats.unmatchedFromServer).toBeGreaterThanOrEqual(1);
    await s.close();
  });

  it('times out a hung request without stalling other traffic', async () => {
    // Seconds, not less: the timeout covers initialize too, and a loaded machine starts a
    // node server slowly.
    const s = await rawSession({ responseTimeoutMs: 2000 });
    await s.initialize();
    const hung = s.request('tools/call', call('hang'));
    const quick = await s.request('tools/call', call('echo', { n: 1 }));
    expect(resultOf(quick)?.content?.[0]?.text).toBe('{"n":1}');
    const answer = await hung;
    expect(errorOf(answer)?.code).toBe(-32001);
    expect(errorOf(answer)?.message).toMatch(/did not answer tools\/call within 2000 ms/);
    await s.close();
  });

  it('serves concurrent requests as they complete', async () => {
    const s = await rawSession();
    await s.initialize();
    // Seconds slower, so that a busy machine cannot reorder them.
    const slow = s.request('tools/call', call('slow', { ms: 2500 }));
    const fast = s.request('tools/call', call('echo', { fast: true }));
    const first = await Promise.race([slow.then(() => 'slow'), fast.then(() => 'fast')]);
    expect(first).toBe('fast');
    await slow;
    await s.close();
  });

  it('withholds a downstream error body, keeping its hash in the trace', async () => {
    const s = await rawSession();
    await s.initialize();
    const answer = await s.request('tools/call', call('error'));
    expect(errorOf(answer)?.code).toBe(-32006);
    expect(JSON.stringify(answer)).not.toMatch(/ignore previous|ssh/);
    await s.close();
    const text = traceText(s.trace);
    expect(text).not.toMatch(/ignore previous|id_rsa/);
    const response = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.syscall?.kind === 'tool.response');
    expect(response.syscall.detail.is_error).toBe(true);
    expect(response.syscall.inputs[0].ref).toBe('content');
  });

  it('fails in-flight requests when the server dies, and exits with a sealed trace', async () => {
    const s = await rawSession();
    await s.initialize();
    const pending = s.request('tools/call', call('hang'));
    const crash = await s.request('tools/call', call('crash'));
    expect(errorOf(crash)?.code).toBe(-32004);
    expect(errorOf(await pending)?.code).toBe(-32004);
    const exit = await s.proxy.done;
    expect(exit.code).toBe(1);
    expect(exit.seal).not.toBeNull();
    expect(verifyLogFile(s.trace).ok).toBe(true);
  });

  it('bounds a notification flood, forwarding a burst and dropping the rest', async () => {
    const s = await rawSession({ notificationBurst: 50, notificationsPerSecond: 10 });
    await s.initialize();
    await s.request('tools/call', call('flood'));
    await s.close();
    const notes = s.lines.filter((m) => m.method === 'notifications/message').length;
    expect(notes).toBeGreaterThanOrEqual(50);
    expect(notes).toBeLessThan(200);
    expect(s.proxy.stats.notificationsDropped).toBeGreaterThan(4000);
  });

  it('refuses a server reply over the frame cap', async () => {
    const s = await rawSession({ maxMessageBytes: 1024 * 1024 });
    await s.initialize();
    const answer = await s.request('tools/call', call('huge'));
    expect(errorOf(answer)?.code).toBe(-32007);
    expect((await s.request('ping')).result).toEqual({});
    await s.close();
  });

  it('starts the server with a cleared environment plus allowed names', async () => {
    const s = await rawSession({ env: { ALLOWED_ONE: 'yes' } });
    await s.initialize();
    const answer = await s.request('tools/call', call('show-vars'));
    const names = JSON.parse(resultOf(answer)?.content?.[0]?.text ?? '[]') as string[];
    expect(names).toEqual(['ALLOWED_ONE', 'PATH']);
    await s.close();
  });

  it('never lets server stderr reach the client', async () => {
    const s = await rawSession();
    await s.initialize();
    await s.request('tools/call', call('stderr'));
    await s.close();
    expect(JSON.stringify(s.lines)).not.toContain('STDERR-MARKER');
  });

  it('leaves a verifying trace when the client vanishes mid-request', async () => {
    const s = await rawSession({ responseTimeoutMs: 2000 });
    await s.initialize();
    s.send(JSON.stringify({ jsonrpc: '2.0', id: 'h', method: 'tools/call', params: call('hang') }));
    const exit = await s.close();
    expect(exit.seal).not.toBeNull();
    expect(verifyLogFile(s.trace).ok).toBe(true);
  });
});

describe('logging/setLevel', () => {
  it('is forwarded as a bare severity, and refused with anything else', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'agentk-fault-')), 'received.log');
    const s = await rawSession({ env: { FAULT_LOG: log } });
    await s.initialize();
    await s.request('logging/setLevel', { level: 'warning', smuggled: 'x' });
    const bad = await s.request('logging/setLevel', { level: 'loud' });
    expect(errorOf(bad)?.code).toBe(-32602);
    await s.close();
    const received = readFileSync(log, 'utf8');
    expect(received).toContain('"params":{"level":"warning"}');
    expect(received).not.toContain('smuggled');
  });
});

describe('server-to-client requests', () => {
  async function initialized(
    capabilities: Record<string, unknown>,
    options: Parameters<typeof rawSession>[0] = {},
  ) {
    const s = await rawSession(options);
    await s.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities,
      clientInfo: { name: 't', version: '1' },
    });
    s.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    return s;
  }

  it('refuses them for a client that did not declare the capability, without bothering it', async () => {
    const s = await initialized({});
    for (const method of ['sampling/createMessage', 'elicitation/create', 'roots/list']) {
      const answer = await s.request('tools/call', call('ask-client', { method }));
      const inner = JSON.parse(resultOf(answer)?.content?.[0]?.text ?? '{}') as Msg;
      expect(errorOf(inner)?.code, method).toBe(-32601);
    }
    expect(
      s.lines.some(
        (m) => typeof m.method === 'string' && !String(m.method).startsWith('notifications/'),
      ),
    ).toBe(false);
    await s.close();
  });

  it('lets the answer through in serial mode, where the call waiting on it holds the rest', async () => {
    const s = await initialized({ roots: {} }, { serialize: true });
    const pending = s.request('tools/call', call('ask-client', { method: 'roots/list' }));
    const asked = await s.waitFor((m) => m.method === 'roots/list');
    s.send(JSON.stringify({ jsonrpc: '2.0', id: asked.id, result: { roots: [] } }));
    const inner = JSON.parse(resultOf(await pending)?.content?.[0]?.text ?? '{}') as Msg;
    expect(inner.result).toEqual({ roots: [] });
    await s.close();
  });

  it("replaces a credential in a server's question to the user with a handle", async () => {
    const s = await initialized({ elicitation: {} });
    const token = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
    const pending = s.request(
      'tools/call',
      call('ask-client', { method: 'elicitation/create', message: `Is ${token} yours?` }),
    );
    const asked = await s.waitFor((m) => m.method === 'elicitation/create');
    const message = String((asked.params as Msg).message);
    expect(message).not.toContain(token);
    expect(message).toMatch(/^Is secret_fd_[0-9a-f]{32} yours\?$/);
    s.send(JSON.stringify({ jsonrpc: '2.0', id: asked.id, result: { action: 'decline' } }));
    await pending;
    await s.close();
    expect(readFileSync(s.trace, 'utf8')).not.toContain(token);
  });

  it("never lets a server's sampling request pull the session's context into the call", async () => {
    const s = await initialized({ sampling: {} });
    const answer = { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' };
    const seen = new Set<unknown>();
    for (const includeContext of ['allServers', 'thisServer', undefined]) {
      const pending = s.request(
        'tools/call',
        call('ask-client', { method: 'sampling/createMessage', includeContext }),
      );
      const asked = await s.waitFor(
        (m) => m.method === 'sampling/createMessage' && !seen.has(m.id),
      );
      seen.add(asked.id);
      const params = asked.params as Msg;
      if (includeContext === undefined) expect(params).not.toHaveProperty('includeContext');
      else expect(params.includeContext, includeContext).toBe('none');
      expect(params.maxTokens).toBe(5);
      s.send(JSON.stringify({ jsonrpc: '2.0', id: asked.id, result: answer }));
      await pending;
    }
    await s.close();
    const intents = traceEvents(s.trace)
      .map((event) => event.syscall)
      .filter((syscall) => syscall?.kind === 'model.call')
      .map((syscall) => syscall.intent);
    expect(intents).toHaveLength(3);
    expect(intents[0]).toMatch(/includeContext "allServers" becomes "none"/);
    expect(intents[2]).not.toMatch(/includeContext/);
  });

  it('relays the server cancelling its question under the id the client knows it by', async () => {
    const s = await initialized({ roots: {} });
    const answer = await s.request(
      'tools/call',
      call('ask-client', { method: 'roots/list', cancel: true }),
    );
    expect(resultOf(answer)?.content?.[0]?.text).toBe('cancelled');
    const asked = await s.waitFor((m) => m.method === 'roots/list');
    const cancelled = await s.waitFor((m) => m.method === 'notifications/cancelled');
    expect((cancelled.params as Msg).requestId).toBe(asked.id);
    // The client's late answer goes nowhere; the cancellation of a question never asked
    // was not passed on.
    s.send(JSON.stringify({ jsonrpc: '2.0', id: asked.id, result: { roots: [] } }));
    expect((await s.request('ping')).result).toEqual({});
    expect(s.lines.filter((m) => m.method === 'notifications/cancelled')).toHaveLength(1);
    await s.close();
  });

  it('mediates them as syscalls and relays them to a client that declared them', async () => {
    const s = await initialized({ sampling: {}, elicitation: {}, roots: {} });
    for (const [method, answerResult] of [
      [
        'sampling/createMessage',
        { role: 'assistant', content: { type: 'text', text: 'hello' }, model: 'm' },
      ],
      ['elicitation/create', { action: 'decline' }],
      ['roots/list', { roots: [] }],
    ] as const) {
      const pending = s.request('tools/call', call('ask-client', { method }));
      const asked = await s.waitFor((m) => m.method === method);
      // The client sees an id AgentK chose, never the server's own (no collisions).
      expect(String(asked.id)).toMatch(/^agentk-srv-[0-9a-f]{24}$/);
      s.send(JSON.stringify({ jsonrpc: '2.0', id: asked.id, result: answerResult }));
      const inner = JSON.parse(resultOf(await pending)?.content?.[0]?.text ?? '{}') as Msg;
      expect(inner.result, method).toEqual(answerResult);
    }
    await s.close();
    const kinds = traceEvents(s.trace).map((event) => event.syscall?.target);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'fault/sampling/createMessage',
        'fault/elicitation/create',
        'fault/roots/list',
      ]),
    );
  });
});

describe('transparency', () => {
  it('relays a clean answer byte for byte', async () => {
    const s = await rawSession();
    await s.initialize();
    const answer = await s.request('tools/call', call('show-vars', {}), 'exact-1');
    // The fault server writes JSON.stringify of this exact object; the client got the same text.
    const expected = JSON.stringify({ jsonrpc: '2.0', id: 'exact-1', result: resultOf(answer) });
    expect(s.rawLines).toContain(expected);
    await s.close();
  });
});

describe('secrets on the wire', () => {
  it('replace a credential in an answer with a handle, and substitute it back for the same server', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'agentk-fault-')), 'received.log');
    const s = await rawSession({ env: { FAULT_LOG: log } });
    await s.initialize();
    const leak = await s.request('tools/call', call('leak'));
    const text = resultOf(leak)?.content?.[0]?.text ?? '';
    const handle = /secret_fd_[0-9a-f]{32}/.exec(text)?.[0] as string;
    expect(text).not.toContain('ghp_');
    expect(handle).toBeDefined();
    const used = await s.request('tools/call', call('record', { token: handle }));
    expect(resultOf(used)?.isError).toBeUndefined();
    const exfil = await s.request('tools/call', call('echo', { to: 'x', data: handle }));
    expect(resultOf(exfil)?.isError).toBe(true);
    await s.close();
    const received = readFileSync(log, 'utf8');
    expect(received).toContain('"token":"ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"');
    expect(received).not.toContain('"data"');
    expect(traceText(s.trace)).not.toContain('ghp_0123456789');
    expect(JSON.stringify(s.lines)).not.toContain('ghp_0123456789');
  });
});
