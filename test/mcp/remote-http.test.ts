// A remote MCP server over Streamable HTTP through the proxy binary (--url): the real
// server-everything in its HTTP mode as a child process, driven by the official SDK client
// over stdio, against the same server reached directly; and small node:http servers that
// fail on purpose (401, 5xx, a hang, a 20 MiB body, an endless event, an expired session,
// nothing listening). Header values never reach the trace, stderr or the client.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceEvents } from '../helpers/proxy.js';
import {
  BIN,
  completeDepartment,
  expectProgressAndSampling,
  expectSameAsDirect,
  plantedHandle,
  tempTrace,
} from '../helpers/real.js';
import { connectCapturing, everythingOverHttp, remoteProxied } from '../helpers/remote.js';

const TOKEN = 'agentk-test-bearer-0123456789abcdefXYZ';
const PLANTED = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the proxy expands it, not JavaScript.
const WITH_TOKEN = ['--header', 'Authorization: Bearer ${REMOTE_TOKEN}'];

let url = '';
let direct: Client;
beforeAll(async () => {
  url = await everythingOverHttp({ PLANTED_TOKEN: PLANTED });
  direct = new Client({ name: 'direct', version: '1.0.0' });
  await direct.connect(new StreamableHTTPClientTransport(new URL(url)));
});
afterAll(async () => {
  await direct.close();
});

/** `agentk verify` (the binary) on a trace: its exit status. */
function verified(trace: string): number | null {
  return spawnSync(process.execPath, [BIN, 'verify', trace], { encoding: 'utf8' }).status;
}

describe('server-everything over Streamable HTTP through mcp-proxy-stdio --url', () => {
  it('lists and calls tools, resources and prompts as it does directly; the token stays out', async () => {
    const trace = tempTrace();
    const run = connectCapturing(remoteProxied('everything', trace, url, WITH_TOKEN), {
      REMOTE_TOKEN: TOKEN,
    });
    const through = await run.connecting;
    await expectSameAsDirect(through, direct, 'hello over HTTP through AgentK');
    await through.close();
    await run.exited;
    expect(verified(trace)).toBe(0);
    const kinds = traceEvents(trace).map((event) => (event.syscall as { kind?: string })?.kind);
    expect(kinds).toEqual(expect.arrayContaining(['tool.invoke', 'resource.read', 'prompt.get']));
    // The start line names the endpoint, not a command; the token is nowhere.
    expect(run.stderr()).toContain(`mediating ${url} under`);
    expect(run.stderr()).toMatch(/client closed the session; \d+ requests .*\(sealed\)/);
    expect(readFileSync(trace, 'utf8')).not.toContain(TOKEN);
    expect(run.stderr()).not.toContain(TOKEN);
  });

  it('refuses a planted credential the same way as on stdio: a handle out, the handle refused', async () => {
    const trace = tempTrace();
    const run = connectCapturing(remoteProxied('everything', trace, url));
    const through = await run.connecting;
    const handle = await plantedHandle(through, PLANTED);
    const complete = (value: string) => completeDepartment(through, value);
    await expect(complete(handle)).rejects.toMatchObject({ code: -32003 });
    expect((await complete('Eng')).completion.values).toEqual(['Engineering']);
    await through.close();
    await run.exited;
    expect(readFileSync(trace, 'utf8')).not.toContain(PLANTED);
    expect(verified(trace)).toBe(0);
  });

  it('relays progress and a server request (sampling) arriving on the SSE stream', async () => {
    const trace = tempTrace();
    const run = connectCapturing(remoteProxied('everything', trace, url), {}, { sampling: {} });
    const through = await run.connecting;
    await expectProgressAndSampling(through, 'sampled through AgentK');
    await through.close();
    await run.exited;
    expect(verified(trace)).toBe(0);
  });

  it('forwards a cancellation and goes on serving', async () => {
    const trace = tempTrace();
    const run = connectCapturing(remoteProxied('everything', trace, url));
    const through = await run.connecting;
    const controller = new AbortController();
    // Cancelled at its first progress notification, long before it would finish.
    const call = through.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 5 } },
      undefined,
      { signal: controller.signal, onprogress: () => controller.abort('enough') },
    );
    await expect(call).rejects.toThrow();
    const echo = { name: 'echo', arguments: { message: 'after the cancellation' } };
    expect(await through.callTool(echo)).toEqual(await direct.callTool(echo));
    await through.close();
    await run.exited;
    expect(run.stderr()).toMatch(/client closed the session; 3 requests/);
    expect(verified(trace)).toBe(0);
  });
});
