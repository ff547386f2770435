// Asks through the proxy: an MCP elicitation to a client that declared it, and an
// out-of-band `agentk approve` for one that did not. Either way an approval is a signed,
// recorded human.approve bound to the exact request hash, good for that request once.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { rawSession, traceEvents } from '../helpers/proxy.js';

type Msg = Record<string, unknown>;
// A write steered by untrusted content: the fault policy asks a person.
const STEERED = { name: 'record', arguments: { note: 'x' }, agentk: { labels: ['untrusted'] } };

async function session(elicitation: boolean, extra: Parameters<typeof rawSession>[0] = {}) {
  const log = join(mkdtempSync(join(tmpdir(), 'agentk-ask-')), 'received.log');
  const s = await rawSession({ env: { FAULT_LOG: log }, ...extra });
  await s.request('initialize', {
    protocolVersion: '2025-06-18',
    capabilities: elicitation ? { elicitation: {} } : {},
    clientInfo: { name: 't', version: '1' },
  });
  s.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return { s, log };
}

describe('an ask through MCP elicitation', () => {
  it('asks the user what, why and the request hash, and forwards once approved', async () => {
    const { s, log } = await session(true);
    const answer = s.request('tools/call', STEERED, 'call-1');
    const question = await s.waitFor((m) => m.method === 'elicitation/create');
    const params = question.params as { message: string; requestedSchema: Msg };
    expect(params.message).toMatch(
      /What: tool\.invoke fault\/record \(steered by untrusted content\)/,
    );
    expect(params.message).toMatch(/rule ask-untrusted-steered-action/);
    expect(params.message).toContain('Arguments:\n  note: "x"');
    const hash = /Request hash: ([0-9a-f]{64})/.exec(params.message)?.[1];
    expect(hash).toBeDefined();
    s.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: question.id,
        result: { action: 'accept', content: { approve: true } },
      }),
    );
    const result = (await answer).result as { isError?: boolean; content: { text: string }[] };
    expect(result.isError).toBeUndefined();
    expect(result.content[0]?.text).toBe('recorded');
    await s.close();
    expect(readFileSync(log, 'utf8')).toContain('"name":"record"');
    const trail = traceEvents(s.trace).filter((e) =>
      ['tool.invoke', 'human.approve'].includes(e.syscall?.kind),
    );
    expect(trail.map((e) => `${e.syscall.kind}:${e.decision.verdict}`)).toEqual([
      'tool.invoke:ask',
      'human.approve:allow',
      'tool.invoke:allow',
    ]);
    expect(trail[1].syscall.detail.approval).toMatchObject({
      request_hash: hash,
      approved: true,
      approver: 'mcp-client-user',
    });
    expect(trail[2].decision.effect).toBe('ask');
  });

  it('offers the session: the same tool and targets then go without another question', async () => {
    const { s, log } = await session(true);
    const first = s.request('tools/call', STEERED, 'call-1');
    const question = await s.waitFor((m) => m.method === 'elicitation/create');
    const params = question.params as { message: string; requestedSchema: Msg };
    expect(params.message).toMatch(
      /for the rest of this session, every tool\.invoke fault\/record/,
    );
    expect(params.requestedSchema).toMatchObject({
      properties: { scope: { type: 'string', enum: ['once', 'session'], default: 'once' } },
    });
    s.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: question.id,
        result: { action: 'accept', content: { approve: true, scope: 'session' } },
      }),
    );
    expect(((await first).result as { isError?: boolean }).isError).toBeUndefined();
    // Other content, the same tool: forwarded at once.
    const second = await s.request(
      'tools/call',
      { ...STEERED, arguments: { note: 'y' } },
      'call-2',
    );
    expect((second.result as { isError?: boolean }).isError).toBeUndefined();
    expect(s.lines.filter((m) => m.method === 'elicitation/create')).toHaveLength(1);
    await s.close();
    expect(readFileSync(log, 'utf8').match(/"name":"record"/g)).toHaveLength(2);
    const invokes = traceEvents(s.trace).filter((e) => e.syscall?.kind === 'tool.invoke');
    expect(invokes.at(-1).decision.reason).toMatch(/within the session grant mcp-client-user/);
  });

  it('answers a declined request with a denial, and never forwards it', async () => {
    const { s, log } = await session(true);
    const answer = s.request('tools/call', STEERED);
    const question = await s.waitFor((m) => m.method === 'elicitation/create');
    s.send(JSON.stringify({ jsonrpc: '2.0', id: question.id, result: { action: 'decline' } }));
    const result = (await answer).result as { isError: boolean; content: { text: string }[] };
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/not approved: the user answered decline/);
    await s.close();
    expect(readFileSync(log, 'utf8')).not.toContain('"name":"record"');
  });
});

describe('requests waiting on a person', () => {
  it('are bounded: past 64 MiB of them, more are refused instead of asked', async () => {
    const { s } = await session(true);
    const pad = 'x'.repeat(256 * 1024);
    const ids = Array.from({ length: 300 }, (_, i) => `big-${i}`);
    for (const id of ids) {
      s.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { ...STEERED, arguments: { note: 'x', pad } },
        }),
      );
    }
    // 300 x 256 KiB is 75 MiB: the first ones are asked, the rest answered at once.
    const refused = await s.waitFor(
      (m) => typeof m.id === 'string' && JSON.stringify(m).includes('waiting for approval'),
    );
    expect(JSON.stringify(refused)).toMatch(/too many requests are waiting for approval/);
    const questions = s.lines.filter((m) => m.method === 'elicitation/create');
    expect(questions.length).toBeGreaterThan(200);
    expect(questions.length).toBeLessThan(300);
    // Declining one frees its room: the next one as large is asked again.
    s.send(JSON.stringify({ jsonrpc: '2.0', id: questions[0]?.id, result: { action: 'decline' } }));
    s.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'after',
        method: 'tools/call',
        params: { ...STEERED, arguments: { note: 'y', pad } },
      }),
    );
    await s.waitFor(
      (m) =>
        m.method === 'elicitation/create' &&
        String((m.params as { message: string }).message).includes('fault/record') &&
        !questions.includes(m),
    );
    s.proxy.stop('test over');
    await s.close();
  });
});

describe('an ask in serial mode (--serialize)', () => {
  it('holds what follows the asked request until that request has been answered', async () => {
    const { s, log } = await session(true, { serialize: true });
    const asked = s.request('tools/call', STEERED, 'first');
    const question = await s.waitFor((m) => m.method === 'elicitation/create');
    const next = s.request('tools/call', { name: 'echo', arguments: { n: 2 } }, 'second');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(readFileSync(log, 'utf8')).not.toContain('"name":"echo"');
    s.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: question.id,
        result: { action: 'accept', content: { approve: true } },
      }),
    );
    expect(((await asked).result as { content: { text: string }[] }).content[0]?.text).toBe(
      'recorded',
    );
    expect(((await next).result as { content: { text: string }[] }).content[0]?.text).toBe(
      '{"n":2}',
    );
    await s.close();
    const received = readFileSync(log, 'utf8');
    expect(received.indexOf('"name":"record"')).toBeGreaterThan(-1);
    expect(received.indexOf('"name":"record"')).toBeLessThan(received.indexOf('"name":"echo"'));
  });
});

describe('an ask without elicitation', () => {
  it('is denied with the request hash, and allowed once after agentk approve', async () => {
    const approvalsDir = mkdtempSync(join(tmpdir(), 'agentk-approvals-'));
    const { s, log } = await session(false, { approvalsDir });
    const first = (await s.request('tools/call', STEERED)).result as {
      _meta: { 'agentk/denial': Msg };
    };
    const denial = first._meta['agentk/denial'];
    expect(String(denial.reason)).toMatch(/agentk approve [0-9a-f]{64}/);
    const hash = denial.request_hash as string;
    const approved = await runCli([
      'approve',
      hash,
      '--approvals-dir',
      approvalsDir,
      '--approver',
      'alice',
    ]);
    expect(approved.stdout).toMatch(/^approved request [0-9a-f]{64} for one retry \(by alice\)/);
    const retry = (await s.request('tools/call', STEERED)).result as { isError?: boolean };
    expect(retry.isError).toBeUndefined();
    const again = (await s.request('tools/call', STEERED)).result as { isError?: boolean };
    expect(again.isError).toBe(true);
    await s.close();
    expect(readFileSync(log, 'utf8').match(/"name":"record"/g)).toHaveLength(1);
    const approval = traceEvents(s.trace).find((e) => e.syscall?.kind === 'human.approve');
    expect(approval.syscall.detail.approval).toMatchObject({
      request_hash: hash,
      approver: 'alice',
      approved: true,
    });
  });

  it('with --session, lets the same tool and targets through for the session', async () => {
    const approvalsDir = mkdtempSync(join(tmpdir(), 'agentk-approvals-'));
    const { s, log } = await session(false, { approvalsDir });
    const first = (await s.request('tools/call', STEERED)).result as {
      _meta: { 'agentk/denial': Msg };
    };
    expect(first._meta['agentk/denial'].needs_approval).toBe(true);
    const hash = first._meta['agentk/denial'].request_hash as string;
    const approved = await runCli(['approve', hash, '--session', '--approvals-dir', approvalsDir]);
    expect(approved.stdout).toMatch(/for the session \(same tool and targets\)/);
    for (const note of ['x', 'y', 'z']) {
      const call = { ...STEERED, arguments: { note } };
      expect(((await s.request('tools/call', call)).result as { isError?: boolean }).isError).toBe(
        undefined,
      );
    }
    await s.close();
    expect(readFileSync(log, 'utf8').match(/"name":"record"/g)).toHaveLength(3);
    const approval = traceEvents(s.trace).find((e) => e.syscall?.kind === 'human.approve');
    expect(approval.syscall.detail.approval).toMatchObject({ scope: 'session' });
  });

  it('ignores an approval signed by another key', async () => {
    const approvalsDir = mkdtempSync(join(tmpdir(), 'agentk-approvals-'));
    const { s } = await session(false, { approvalsDir });
    const first = (await s.request('tools/call', STEERED)).result as {
      _meta: { 'agentk/denial': Msg };
    };
    const hash = first._meta['agentk/denial'].request_hash as string;
    await runCli(['approve', hash, '--approvals-dir', approvalsDir], {
      AGENTK_SIGNING_KEY_HEX: '33'.repeat(32),
    });
    const retry = (await s.request('tools/call', STEERED)).result as { isError?: boolean };
    expect(retry.isError).toBe(true);
    await s.close();
  });
});
