// AgentK as a Streamable HTTP endpoint (the binary, `agentk mcp-proxy-http`) in front of
// the real server-everything on stdio, driven by the official SDK client over HTTP, and
// compared with the same server reached directly: tools, resources, prompts, a planted
// credential refused as on stdio, progress and sampling over SSE, two sessions at once
// with a trace each, DELETE and SIGTERM sealing them.

import { readFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectHttp,
  type Endpoint,
  startEndpoint,
  tracePathOf,
  verified,
} from '../helpers/http-endpoint.js';
import { traceEvents } from '../helpers/proxy.js';
import {
  completeDepartment,
  connect,
  EVERYTHING,
  expectProgressAndSampling,
  expectSameAsDirect,
  plantedHandle,
} from '../helpers/real.js';
import { everythingOverHttp } from '../helpers/remote.js';

const PLANTED = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

let endpoint: Endpoint;
let direct: Client;
beforeAll(async () => {
  endpoint = await startEndpoint(['--allow-env', 'PLANTED_TOKEN'], { PLANTED_TOKEN: PLANTED });
  direct = await connect(process.execPath, [EVERYTHING], { PLANTED_TOKEN: PLANTED });
});
afterAll(async () => {
  if (endpoint.child.exitCode === null) await endpoint.stop();
});

/** The trace of the session `id` names (from its start line). */
async function traceOf(id: string | undefined): Promise<string> {
  const start = await endpoint.line(new RegExp(`session ${id?.slice(0, 8)}: mediating`));
  return tracePathOf(start);
}

/** End a session with DELETE and wait for its closing line; its trace is then sealed. */
async function ended(id: string | undefined): Promise<string> {
  return endpoint.line(new RegExp(`session ${id?.slice(0, 8)}: the client closed the session`));
}

describe('agentk mcp-proxy-http in front of server-everything (stdio)', () => {
  it('lists and calls tools, resources and prompts as directly; DELETE seals the trace', async () => {
    const { client, transport } = await connectHttp(endpoint.url);
    const id = transport.sessionId;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await expectSameAsDirect(client, direct, 'hello over HTTP into AgentK');
    const trace = await traceOf(id);
    await transport.terminateSession();
    expect(await ended(id)).toMatch(/\(sealed\)$/);
    expect(verified(trace)).toBe(0);
    const kinds = traceEvents(trace).map((event) => (event.syscall as { kind?: string })?.kind);
    expect(kinds).toEqual(expect.arrayContaining(['tool.invoke', 'resource.read', 'prompt.get']));
    // The ended session is not known any more: 404, as the spec says.
    const after = await fetch(endpoint.url, {
      headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': id as string },
    });
    expect(after.status).toBe(404);
  });

  it('refuses a planted credential as on stdio: a handle out, the handle refused (-32003)', async () => {
    const { client, transport } = await connectHttp(endpoint.url);
    const handle = await plantedHandle(client, PLANTED);
    await expect(completeDepartment(client, handle)).rejects.toMatchObject({ code: -32003 });
    expect((await completeDepartment(client, 'Eng')).completion.values).toEqual(['Engineering']);
    const id = transport.sessionId;
    const trace = await traceOf(id);
    await transport.terminateSession();
    await ended(id);
    expect(readFileSync(trace, 'utf8')).not.toContain(PLANTED);
    expect(endpoint.stderr()).not.toContain(PLANTED);
    expect(verified(trace)).toBe(0);
  });

  it('relays progress and a server request (sampling) over the SSE streams', async () => {
    const { client, transport } = await connectHttp(endpoint.url, { sampling: {} });
    await expectProgressAndSampling(client, 'sampled through AgentK over HTTP');
    const id = transport.sessionId;
    const trace = await traceOf(id);
    await transport.terminateSession();
    await ended(id);
    expect(verified(trace)).toBe(0);
    const kinds = traceEvents(trace).map((event) => (event.syscall as { kind?: string })?.kind);
    expect(kinds).toContain('model.call');
  });

  it('keeps two concurrent sessions apart: a server, a kernel session and a trace each', async () => {
    const one = await connectHttp(endpoint.url);
    const two = await connectHttp(endpoint.url);
    expect(one.transport.sessionId).not.toBe(two.transport.sessionId);
    const echo = (client: Client, message: string) =>
      client.callTool({ name: 'echo', arguments: { message } });
    const [a, b] = await Promise.all([echo(one.client, 'first'), echo(two.client, 'second')]);
    expect(JSON.stringify(a)).toContain('Echo: first');
    expect(JSON.stringify(b)).toContain('Echo: second');
    const ids = [one.transport.sessionId, two.transport.sessionId];
    const traces = [await traceOf(ids[0]), await traceOf(ids[1])];
    expect(traces[0]).not.toBe(traces[1]);
    await Promise.all([one.transport.terminateSession(), two.transport.terminateSession()]);
    await Promise.all([ended(ids[0]), ended(ids[1])]);
    for (const trace of traces) expect(verified(trace)).toBe(0);
    // One call in each trace, each with its own argument (the trace keeps its hash).
    const calls = traces.map((trace) =>
      traceEvents(trace as string).filter(
        (event) => (event.syscall as { kind?: string })?.kind === 'tool.invoke',
      ),
    );
    expect(calls.map((events) => events.length)).toEqual([1, 1]);
    const argument = (events: (typeof calls)[number]) => JSON.stringify(events[0]?.syscall);
    expect(argument(calls[0] ?? [])).not.toBe(argument(calls[1] ?? []));
  });
});

describe('stopping mcp-proxy-http', () => {
  it('SIGTERM ends every open session, seals each trace, and exits 0', async () => {
    const own = await startEndpoint();
    const { client, transport } = await connectHttp(own.url);
    await client.callTool({ name: 'echo', arguments: { message: 'before the signal' } });
    const start = await own.line(new RegExp(`session ${transport.sessionId?.slice(0, 8)}: med`));
    const { code, stderr } = await own.stop('SIGTERM');
    expect(code).toBe(0);
    expect(stderr).toMatch(/stopping \(SIGTERM\): ending 1 session/);
    expect(stderr).toMatch(/stopped by SIGTERM; 2 requests .*\(sealed\)/);
    expect(verified(tracePathOf(start))).toBe(0);
  });

  it('ends a session idle past --idle-timeout-ms and seals its trace', async () => {
    const own = await startEndpoint(['--idle-timeout-ms', '1000']);
    const { transport } = await connectHttp(own.url);
    const id = transport.sessionId?.slice(0, 8);
    const start = await own.line(new RegExp(`session ${id}: mediating`));
    await own.line(new RegExp(`session ${id}: ending: idle for 1 s`));
    expect(await own.line(new RegExp(`session ${id}: the client closed`))).toMatch(/\(sealed\)$/);
    expect(verified(tracePathOf(start))).toBe(0);
    await own.stop();
  });
});

describe('agentk mcp-proxy-http --url: in front of a remote server', () => {
  it('relays a session to server-everything over Streamable HTTP, mediated and traced', async () => {
    const upstream = await everythingOverHttp();
    const own = await startEndpoint(['--url', upstream], {}, []);
    const { client, transport } = await connectHttp(own.url);
    const id = transport.sessionId?.slice(0, 8);
    const echo = { name: 'echo', arguments: { message: 'HTTP in, HTTP out' } };
    expect(await client.callTool(echo)).toEqual(await direct.callTool(echo));
    const start = await own.line(new RegExp(`session ${id}: mediating ${upstream} under`));
    await transport.terminateSession();
    expect(await own.line(new RegExp(`session ${id}: the client closed`))).toMatch(/\(sealed\)$/);
    expect(verified(tracePathOf(start))).toBe(0);
    await own.stop();
  });
});
