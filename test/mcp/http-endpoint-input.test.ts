// Bad input to `agentk mcp-proxy-http` (the binary): each refused with the status the MCP
// spec or HTTP names, one line on stderr each, never a crash (the endpoint serves a client
// afterwards); and the options it refuses before it listens. Plain node:http requests, so
// that any header (Host included) and malformed HTTP can be sent.

import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, type Endpoint, startEndpoint } from '../helpers/http-endpoint.js';
import { BIN, EVERYTHING } from '../helpers/real.js';
import { INITIALIZE } from '../helpers/runs.js';

const TOKEN = 'agentk-endpoint-token-0123456789abcdef';
const JSON_TYPE = 'application/json';
const ACCEPT = 'application/json, text/event-stream';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let endpoint: Endpoint;
let port = 0;
beforeAll(async () => {
  endpoint = await startEndpoint(
    ['--token-env', 'HTTPD_TOKEN', '--max-message-bytes', '16384', '--max-sessions', '1'],
    { HTTPD_TOKEN: TOKEN },
  );
  port = Number(new URL(endpoint.url).port);
});
afterAll(async () => {
  if (endpoint.child.exitCode === null) await endpoint.stop();
});

/** One request as written (headers as given: none added but Host, unless given). */
function send(
  method: string,
  headers: Record<string, string>,
  body?: string,
  path = '/mcp',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** The usual headers of a client with the token. */
function good(extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${TOKEN}`, 'Content-Type': JSON_TYPE, Accept: ACCEPT, ...extra };
}

let marks = 0;
/**
 * The stderr lines written since the last mark: a request to a path nothing serves is
 * refused with a line of its own, which comes after every line before it (one pipe).
 */
async function linesSinceMark(): Promise<string[]> {
  const previous = marks === 0 ? null : `refused GET /mark-${marks}:`;
  const mark = `refused GET /mark-${++marks}:`;
  await send('GET', good(), undefined, `/mark-${marks}`);
  await endpoint.line(new RegExp(mark));
  const lines = endpoint.stderr().split('\n');
  const from = previous === null ? -1 : lines.findIndex((line) => line.includes(previous));
  return lines.slice(
    from + 1,
    lines.findIndex((line) => line.includes(mark)),
  );
}

/** A live session's id (initialize, then initialized), to send bad requests inside it. */
async function openSession(): Promise<string> {
  const answer = await send('POST', good(), JSON.stringify(INITIALIZE));
  expect(answer.status).toBe(200);
  const id = answer.headers['mcp-session-id'] as string;
  const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
  const session = { 'Mcp-Session-Id': id, 'MCP-Protocol-Version': '2025-06-18' };
  expect((await send('POST', good(session), JSON.stringify(initialized))).status).toBe(202);
  return id;
}

describe('mcp-proxy-http refuses bad input with the status the spec names', () => {
  it('answers each bad request with its status and one stderr line, and keeps serving', async () => {
    await linesSinceMark();
    const session = await openSession();
    await linesSinceMark();
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const inSession = { 'Mcp-Session-Id': session };
    const rows: [string, () => Promise<Answer>, number][] = [
      [
        'no bearer token',
        () => send('POST', { 'Content-Type': JSON_TYPE, Accept: ACCEPT }, list),
        401,
      ],
      [
        'a wrong bearer token',
        () => send('POST', good({ Authorization: 'Bearer nope-nope-nope-nope' }), list),
        401,
      ],
      ['a foreign Origin', () => send('POST', good({ Origin: 'https://evil.example' }), list), 403],
      ['Origin null', () => send('POST', good({ Origin: 'null' }), list), 403],
      [
        'a foreign Host (DNS rebinding)',
        () => send('POST', good({ Host: `evil.example:${port}` }), list),
        403,
      ],
      [
        'a wrong content type',
        () => send('POST', good({ 'Content-Type': 'text/plain' }), list),
        415,
      ],
      ['no Accept for both types', () => send('POST', good({ Accept: JSON_TYPE }), list), 406],
      ['malformed JSON', () => send('POST', good(inSession), '{"jsonrpc":'), 400],
      ['JSON that is not JSON-RPC', () => send('POST', good(inSession), '{"hello":1}'), 400],
      [
        'a body over --max-message-bytes',
        () => send('POST', good(inSession), `"${'x'.repeat(20_000)}"`),
        413,
      ],
      ['no Mcp-Session-Id after initialize', () => send('POST', good(), list), 400],
      [
        'a foreign Mcp-Session-Id',
        () => send('POST', good({ 'Mcp-Session-Id': 'f'.repeat(32) }), list),
        404,
      ],
      [
        'a wrong MCP-Protocol-Version',
        () => send('POST', good({ ...inSession, 'MCP-Protocol-Version': '1999-01-01' }), list),
        400,
      ],
      [
        'GET without text/event-stream',
        () => send('GET', good({ ...inSession, Accept: JSON_TYPE })),
        406,
      ],
      ['a method MCP does not use', () => send('PUT', good(inSession), list), 405],
      ['another path', () => send('POST', good(), list, '/other'), 404],
      [
        'a second session past --max-sessions',
        () => send('POST', good(), JSON.stringify(INITIALIZE)),
        503,
      ],
      ['headers over 16 KiB', () => send('GET', good({ 'X-Big': 'a'.repeat(20_000) })), 431],
      ['malformed HTTP', () => rawHttp('BREW /mcp HTCPCP/1.0\r\n\r\n'), 400],
    ];
    for (const [name, make, status] of rows) {
      const answer = await make();
      expect({ name, status: answer.status }).toEqual({ name, status });
      const lines = await linesSinceMark();
      expect({ name, lines: lines.length }).toEqual({ name, lines: 1 });
    }
    // The refusals that say how to do better do so.
    const unauthorized = await send('POST', { 'Content-Type': JSON_TYPE, Accept: ACCEPT }, list);
    expect(unauthorized.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await send('PUT', good(inSession), list)).headers.allow).toBe('GET, POST, DELETE');
    // Nothing crashed: the session still answers, DELETE ends it, a new client connects.
    const tools = await send(
      'POST',
      good({ ...inSession, 'MCP-Protocol-Version': '2025-06-18' }),
      list,
    );
    expect(tools.body).toContain('"echo"');
    expect((await send('DELETE', good(inSession))).status).toBe(200);
    const { client } = await connectHttp(endpoint.url, {}, { Authorization: `Bearer ${TOKEN}` });
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    expect(endpoint.stderr()).not.toContain(TOKEN);
  });
});

/** Bytes straight onto a socket; the status line of the answer. */
function rawHttp(text: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      resolve({ status, headers: {}, body: answer });
    });
  });
}

describe('mcp-proxy-http refuses unsafe options before it listens', () => {
  const refused = (args: string[], env: Record<string, string> = {}) => {
    const run = spawnSync(
      process.execPath,
      [BIN, 'mcp-proxy-http', '--server-id', 's', ...args, '--', process.execPath, EVERYTHING],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
    );
    return { status: run.status, stderr: run.stderr };
  };

  it('binds only to loopback unless told, and then only with a token', () => {
    const open = refused(['--listen', '0.0.0.0:0']);
    expect(open.status).toBe(2);
    expect(open.stderr).toMatch(/only this machine's loopback addresses.*--allow-non-loopback/);
    const noToken = refused(['--listen', '0.0.0.0:0', '--allow-non-loopback']);
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toMatch(/--allow-non-loopback needs --token-env/);
  });

  it('refuses an unset or weak token without showing it, and a shared trace file', () => {
    const unset = refused(['--listen', '127.0.0.1:0', '--token-env', 'NOT_SET_HERE']);
    expect(unset.stderr).toMatch(/--token-env NOT_SET_HERE: the variable is not set or empty/);
    const weak = refused(['--listen', '127.0.0.1:0', '--token-env', 'WEAK'], { WEAK: 'short-one' });
    expect(weak.status).toBe(2);
    expect(weak.stderr).toMatch(/at least 16 printable characters/);
    expect(weak.stderr).not.toContain('short-one');
    const shared = refused(['--listen', '127.0.0.1:0', '--trace-out', '/tmp/one.jsonl']);
    expect(shared.stderr).toMatch(/--trace-out must contain \{run\}/);
    const origin = refused(['--listen', '127.0.0.1:0', '--allow-origin', 'https://a.example/path']);
    expect(origin.stderr).toMatch(/--allow-origin #1 must be an origin/);
    expect(refused(['--listen', 'nowhere']).stderr).toMatch(/--listen must be HOST:PORT/);
  });
});
