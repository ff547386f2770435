// The sandbox's network allow-list with real processes (issue 19): the hostile server,
// run through the proxy binary under a [sandbox] table that lists host:port places,
// reaches a listed place through AgentK's filtering proxy (a CONNECT tunnel and a
// forwarded plain-HTTP request), is refused a place not listed with a 403 that says why,
// and has no route at all when it ignores the proxy variables; every attempt is a
// network.send event in the trace. Without --sandbox the same attempts succeed directly
// (the baseline). Skipped, with the reason, where the host cannot sandbox.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLogFile } from '../../src/recorder/verify.js';
import {
  asNobody,
  BIN,
  hostileServer,
  proxyClient,
  sandboxUnavailable,
  world,
} from '../helpers/sandbox.js';

const unavailable = sandboxUnavailable();

/** A TCP listener no allow-list names: it must never see a connection from the sandbox. */
let forbidden: Server;
let forbiddenPort = 0;
let forbiddenConnections = 0;
/** The allowed place: an HTTP server on the host's loopback, as localhost and as 127.0.0.2. */
let allowed: HttpServer;
let allowedPort = 0;
let second: HttpServer;
let secondPort = 0;
const requests: string[] = [];

function helloServer(name: string): HttpServer {
  return createHttpServer((req, res) => {
    requests.push(`${name} ${req.method} ${req.url} host=${req.headers.host}`);
    res.end(`hello from ${name}\n`);
  });
}

const listen = (server: Server | HttpServer, host: string) =>
  new Promise<number>((resolve) =>
    server.listen(0, host, () => resolve((server.address() as { port: number }).port)),
  );

beforeAll(async () => {
  forbidden = createServer((socket) => {
    forbiddenConnections += 1;
    socket.destroy();
  });
  forbiddenPort = await listen(forbidden, '127.0.0.1');
  allowed = helloServer('the allowed host');
  allowedPort = await listen(allowed, '127.0.0.1');
  second = helloServer('127.0.0.2');
  secondPort = await listen(second, '127.0.0.2');
});
afterAll(async () => {
  for (const server of [forbidden, allowed, second]) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

interface NetworkEvent {
  readonly target: string;
  readonly method: string | undefined;
  readonly verdict: string;
  readonly rule: string;
}

/** The trace's network.send events, in order. */
function networkEvents(trace: string): NetworkEvent[] {
  return readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((event) => event.type === 'syscall' && event.syscall.kind === 'network.send')
    .map((event) => ({
      target: event.syscall.target,
      method: event.syscall.detail?.method,
      verdict: event.decision.verdict,
      rule: event.decision.rule,
    }));
}

describe.skipIf(unavailable !== null)(`a sandboxed server's network ${unavailable ?? ''}`, () => {
  it('without --sandbox (the baseline): every place is reached directly, nothing is recorded', async () => {
    const w = world();
    const session = await proxyClient(w, 'plain', hostileServer(w, forbiddenPort));
    const before = forbiddenConnections;
    expect(await session.call('connect_loopback')).toBe('ok connected');
    expect(forbiddenConnections).toBe(before + 1);
    expect(await session.call('tunnel_get', { host: 'localhost', port: allowedPort })).toBe(
      'ok 200 hello from the allowed host',
    );
    expect(await session.call('http_get', { url: `http://127.0.0.1:${allowedPort}/hello` })).toBe(
      'ok 200 hello from the allowed host',
    );
    await session.close();
    expect(networkEvents(session.trace)).toEqual([]);
  });

  it('under an allow-list: listed places through the proxy, the rest refused and recorded', async () => {
    const w = world(
      `[sandbox.hostile]\nnetwork = ["localhost:${allowedPort}", "127.0.0.2:${secondPort}"]\n`,
    );
    const session = await proxyClient(w, 'hostile', hostileServer(w, forbiddenPort));
    const before = forbiddenConnections;
    requests.length = 0;
    // A client that ignores the proxy variables has no route: only the sandbox's loopback.
    expect(await session.call('connect_loopback')).toBe('error ECONNREFUSED');
    // A CONNECT tunnel and a forwarded request to the listed place.
    expect(await session.call('tunnel_get', { host: 'localhost', port: allowedPort })).toBe(
      'ok 200 hello from the allowed host',
    );
    expect(
      await session.call('http_get', { url: `http://LocalHost:${allowedPort}/hello?q=1` }),
    ).toBe('ok 200 hello from the allowed host');
    // Not listed: the port the test's listener holds, and the listed port by another name.
    expect(await session.call('tunnel_get', { host: '127.0.0.1', port: forbiddenPort })).toMatch(
      `error 403 agentk: CONNECT 127.0.0.1:${forbiddenPort} refused (kernel.sandbox-network-not-allowed)`,
    );
    expect(
      await session.call('http_get', { url: `http://127.0.0.1:${allowedPort}/hello` }),
    ).toMatch(
      /^error 403 agentk: GET 127\.0\.0\.1:\d+ refused \(kernel\.sandbox-network-not-allowed\)/,
    );
    // Listed, but the policy refuses the tunnel (it is asked after the allow-list).
    expect(await session.call('tunnel_get', { host: '127.0.0.2', port: secondPort })).toMatch(
      /^error 403 agentk: CONNECT 127\.0\.0\.2:\d+ refused \(deny-tunnel-to-127\.0\.0\.2\)/,
    );
    expect(await session.call('http_get', { url: `http://127.0.0.2:${secondPort}/hello` })).toBe(
      'ok 200 hello from 127.0.0.2',
    );
    expect(forbiddenConnections).toBe(before);
    expect(requests).toEqual([
      `the allowed host GET /hello host=localhost:${allowedPort}`,
      `the allowed host GET /hello?q=1 host=localhost:${allowedPort}`,
      `127.0.0.2 GET /hello host=127.0.0.2:${secondPort}`,
    ]);
    const stderr = await session.close();
    expect(stderr).toContain(
      `sandboxed: workspace rw; network localhost:${allowedPort},127.0.0.2:${secondPort}`,
    );
    expect(networkEvents(session.trace)).toEqual([
      {
        target: `https://localhost:${allowedPort}`,
        method: 'CONNECT',
        verdict: 'allow',
        rule: 'allow-server-network',
      },
      {
        target: `http://localhost:${allowedPort}`,
        method: 'GET',
        verdict: 'allow',
        rule: 'allow-server-network',
      },
      {
        target: `https://127.0.0.1:${forbiddenPort}`,
        method: 'CONNECT',
        verdict: 'deny',
        rule: 'kernel.sandbox-network-not-allowed',
      },
      {
        target: `http://127.0.0.1:${allowedPort}`,
        method: 'GET',
        verdict: 'deny',
        rule: 'kernel.sandbox-network-not-allowed',
      },
      {
        target: `https://127.0.0.2:${secondPort}`,
        method: 'CONNECT',
        verdict: 'deny',
        rule: 'deny-tunnel-to-127.0.0.2',
      },
      {
        target: `http://127.0.0.2:${secondPort}`,
        method: 'GET',
        verdict: 'allow',
        rule: 'allow-server-network',
      },
    ]);
    expect(verifyLogFile(session.trace).ok).toBe(true);
    // `agentk why` tells the sandbox's refusal from the policy's, and suggests no rule.
    const refusal = readFileSync(session.trace, 'utf8')
      .split('\n')
      .find((line) => line.includes('"rule":"kernel.sandbox-network-not-allowed"'));
    const step = String(JSON.parse(refusal as string).step);
    const why = spawnSync(
      process.execPath,
      [BIN, 'why', session.trace, step, '--policy', w.policy],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: w.home, AGENTK_HOME: w.state },
      },
    );
    expect(why.stdout).toContain(
      'The sandbox refused it (kernel.sandbox-network-not-allowed), not the policy: no policy rule changes this',
    );
    expect(why.stdout).not.toContain('[[rules]]');
  });

  it('with the relay in front of the server, a limit that kills the server is still named', async () => {
    const w = world(
      `[sandbox.hostile]\nnetwork = ["localhost:${allowedPort}"]\n[sandbox.hostile.limits]\ncpu_seconds = 1\n`,
    );
    const session = await proxyClient(w, 'hostile', hostileServer(w, forbiddenPort));
    await expect(session.call('burn_cpu', { seconds: 120 })).rejects.toThrow(/exited|closed/i);
    const stderr = await session.close();
    expect(stderr).toContain('the server hit its CPU time limit (1 s, SIGXCPU)');
  });

  it('works the same for a proxy run as a normal user (uid 65534)', async (ctx) => {
    const w = world(`[sandbox.hostile]\nnetwork = ["localhost:${allowedPort}"]\n`);
    const nobody = asNobody(w);
    if ('skip' in nobody) return ctx.skip(nobody.skip);
    const session = await proxyClient(
      w,
      'hostile',
      hostileServer(w, forbiddenPort),
      [],
      nobody.wrapper,
    );
    expect(await session.call('tunnel_get', { host: 'localhost', port: allowedPort })).toBe(
      'ok 200 hello from the allowed host',
    );
    expect(await session.call('tunnel_get', { host: '127.0.0.1', port: forbiddenPort })).toMatch(
      /^error 403 agentk: CONNECT 127\.0\.0\.1:\d+ refused/,
    );
    await session.close();
    expect(networkEvents(session.trace).map((event) => event.verdict)).toEqual(['allow', 'deny']);
  });
});
