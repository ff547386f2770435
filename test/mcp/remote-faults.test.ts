// A remote server that fails, through the proxy binary (--url): each failure reaches the
// client as a JSON-RPC error in AgentK's words and the operator as one stderr line, with
// nothing unbounded and no header value anywhere. The servers are small node:http fakes
// (a real network socket each); the client is the official SDK's, over stdio.

import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FAULT_POLICY } from '../helpers/proxy.js';
import { tempTrace } from '../helpers/real.js';
import { connectCapturing, fakeRemote, freePort, remoteProxied } from '../helpers/remote.js';

const TOKEN = 'agentk-fault-bearer-9876543210fedcbaQRS';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the proxy expands it, not JavaScript.
const HEADER = ['--header', 'Authorization: Bearer ${REMOTE_TOKEN}'];
const INIT = {
  protocolVersion: '2025-06-18',
  capabilities: { tools: {} },
  serverInfo: { name: 'fake', version: '1.0.0' },
};
const TOOLS = {
  tools: [{ name: 'slow', inputSchema: { type: 'object', properties: {} } }],
};
const MiB = 1024 * 1024;

type Rpc = { id?: string | number; method?: string };

function json(response: ServerResponse, id: Rpc['id'], result: unknown, headers = {}): void {
  response.writeHead(200, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify({ jsonrpc: '2.0', id, result }));
}

/** The proxy in front of `url` with the fault policy, the token in a header, and `extra`. */
function start(url: string, extra: string[] = []) {
  const trace = tempTrace();
  const args = [...HEADER, '--policy', FAULT_POLICY, ...extra];
  const run = connectCapturing(remoteProxied('fault', trace, url, args), { REMOTE_TOKEN: TOKEN });
  return { ...run, trace };
}

/** Nothing of the token in the trace, on stderr, or in what the client was told. */
function expectNoToken(run: { stderr(): string; trace: string }, told: unknown): void {
  expect(run.stderr()).not.toContain(TOKEN);
  expect(JSON.stringify(told)).not.toContain(TOKEN);
  let trace = '';
  try {
    trace = readFileSync(run.trace, 'utf8');
  } catch {
    // no trace written: nothing to leak
  }
  expect(trace).not.toContain(TOKEN);
}

/** A server whose every answer echoes the request's headers (as a debug page might). */
function echoing(status: number) {
  return (request: IncomingMessage, _body: string, response: ServerResponse) => {
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(`refused: ${JSON.stringify(request.headers)}`);
  };
}

describe('a failing remote server through mcp-proxy-stdio --url', () => {
  it('says authentication failed on 401, naming the header, never its value', async () => {
    const run = start(await fakeRemote(echoing(401)));
    const error = await run.connecting.catch((caught: Error) => caught);
    expect(String(error)).toMatch(
      /authentication failed: .* HTTP 401 \(headers sent: Authorization;/,
    );
    expect(run.stderr()).toContain('remote: authentication failed');
    expectNoToken(run, String(error));
  });

  it('says the server failed on 5xx, without its words', async () => {
    const run = start(await fakeRemote(echoing(503)));
    const error = await run.connecting.catch((caught: Error) => caught);
    expect(String(error)).toMatch(/failed: HTTP 503/);
    expect(String(error)).not.toContain('refused:');
    expectNoToken(run, String(error));
  });

  it('answers a request the server never answers with the response timeout', async () => {
    const run = start(await fakeRemote(() => {}), ['--response-timeout-ms', '1000']);
    await expect(run.connecting).rejects.toMatchObject({ code: -32001 });
    expectNoToken(run, '');
  });

  it('withholds a 20 MiB body over the message limit, and stops reading it', async () => {
    let written = 0;
    const url = await fakeRemote((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const piece = Buffer.alloc(64 * 1024, 0x20);
      const more = () => {
        while (written < 20 * MiB && !response.destroyed) {
          written += piece.length;
          if (!response.write(piece)) return void response.once('drain', more);
        }
        response.end();
      };
      response.on('close', () => response.destroy());
      more();
    });
    const run = start(url, ['--max-message-bytes', String(MiB)]);
    await expect(run.connecting).rejects.toMatchObject({ code: -32007 });
    expect(run.stderr()).toContain('over the 1048576-byte limit');
    expect(written).toBeLessThan(20 * MiB);
  });

  it('withholds an endless event on an SSE stream', async () => {
    const url = await fakeRemote((_request, _body, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: ');
      const piece = 'x'.repeat(64 * 1024);
      const more = () => {
        while (!response.destroyed)
          if (!response.write(piece)) return void response.once('drain', more);
      };
      more();
    });
    const run = start(url, ['--max-message-bytes', String(MiB)]);
    await expect(run.connecting).rejects.toMatchObject({ code: -32007 });
  });

  it('says the remote session expired on 404 for its session id, and ends the session', async () => {
    const seen: Record<string, string | undefined>[] = [];
    const url = await fakeRemote((request, body, response) => {
      if (request.method !== 'POST') return void response.writeHead(405).end();
      const message = JSON.parse(body) as Rpc;
      seen.push({
        method: message.method,
        session: request.headers['mcp-session-id'] as string | undefined,
        version: request.headers['mcp-protocol-version'] as string | undefined,
        authorization: request.headers.authorization,
      });
      if (message.method === 'initialize')
        json(response, message.id, INIT, { 'mcp-session-id': 's-1' });
      else if (message.id === undefined) response.writeHead(202).end();
      else response.writeHead(404).end();
    });
    const run = start(url);
    const client = await run.connecting;
    const error = await client.listTools().catch((caught: Error) => caught);
    expect(String(error)).toContain('the remote session expired');
    await run.exited;
    expect(run.stderr()).toContain('remote: the remote session expired');
    expect(run.stderr()).toMatch(/the remote session expired.*\(sealed\)/);
    // The SDK's transport carried the session id, the version the server chose, and the
    // header with its variable filled in.
    expect(seen.at(-1)).toEqual({
      method: 'tools/list',
      session: 's-1',
      version: '2025-06-18',
      authorization: `Bearer ${TOKEN}`,
    });
    expectNoToken(run, String(error));
  });

  it('says the host cannot be reached when nothing listens', async () => {
    const run = start(`http://127.0.0.1:${await freePort()}/mcp`);
    const error = await run.connecting.catch((caught: Error) => caught);
    expect(String(error)).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/mcp \(ECONNREFUSED\)/);
    expect(run.stderr()).toContain('remote: cannot reach');
  });

  it('resumes a dropped SSE stream with Last-Event-ID and delivers the answer', async () => {
    const resumedWith: (string | undefined)[] = [];
    let callId: Rpc['id'];
    const url = await fakeRemote((request, body, response) => {
      if (request.method === 'DELETE') return void response.writeHead(200).end();
      if (request.method === 'GET') {
        const last = request.headers['last-event-id'] as string | undefined;
        if (last === undefined) return void response.writeHead(405).end();
        resumedWith.push(last);
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const answer = {
          jsonrpc: '2.0',
          id: callId,
          result: { content: [{ type: 'text', text: 'resumed' }] },
        };
        return void response.end(`id: e2\ndata: ${JSON.stringify(answer)}\n\n`);
      }
      const message = JSON.parse(body) as Rpc;
      if (message.method === 'initialize')
        json(response, message.id, INIT, { 'mcp-session-id': 's-2' });
      else if (message.method === 'tools/list') json(response, message.id, TOOLS);
      else if (message.id === undefined) response.writeHead(202).end();
      else {
        // A priming event with an id, then the connection drops before the answer.
        callId = message.id;
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('id: e1\ndata: \n\n', () => response.destroy());
      }
    });
    const run = start(url);
    const client = await run.connecting;
    await client.listTools();
    const result = await client.callTool({ name: 'slow', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'resumed' }]);
    expect(resumedWith).toEqual(['e1']);
    expect(run.stderr()).toContain('remote: an event stream of the remote server broke off');
  });
});
