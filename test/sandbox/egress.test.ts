// The sandbox's filtering proxy in process, over its real Unix socket: the order of its
// checks (a host not on the list is never resolved; a name that resolves to a loopback or
// private address is refused unless the entry names that place; the recorder is asked
// last and may refuse), what it records, and the 403 it answers. The resolver is the
// test's, so that a name can be made to resolve anywhere (DNS rebinding).

import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EgressAttempt, EgressProxy, type EgressVerdict } from '../../src/sandbox/egress.js';
import { addressProblem, parseNetworkEntry } from '../../src/sandbox/network.js';

let upstream: Server;
let port = 0;

beforeAll(async () => {
  upstream = createServer((_req, res) => res.end('upstream\n'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  port = (upstream.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

/** Send `text` on the proxy's socket; everything it answers, until it closes. */
function exchange(socket: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = connect({ path: socket });
    let answer = '';
    client.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    client.once('error', reject);
    client.once('close', () => resolve(answer));
    client.write(text);
  });
}

const entry = (text: string) => {
  const parsed = parseNetworkEntry(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

async function proxyWith(
  allow: readonly string[],
  addresses: Record<string, readonly string[]>,
  verdict: EgressVerdict = { allowed: true, rule: 'allow-all', reason: 'test' },
) {
  const attempts: EgressAttempt[] = [];
  const lookedUp: string[] = [];
  const proxy = await EgressProxy.open({
    allow: allow.map(entry),
    record: (attempt) => {
      attempts.push(attempt);
      return attempt.refusal ? { allowed: false, ...attempt.refusal } : verdict;
    },
    resolve: async (host) => {
      lookedUp.push(host);
      return addresses[host] ?? [];
    },
  });
  return { proxy, attempts, lookedUp };
}

const get = (host: string, p: number) =>
  `GET http://${host}:${p}/x HTTP/1.1\r\nHost: ${host}:${p}\r\nConnection: close\r\n\r\n`;

describe('the sandbox network proxy', () => {
  it('never resolves a host that is not on the list, and answers 403 with the rule', async () => {
    const { proxy, attempts, lookedUp } = await proxyWith([`localhost:${port}`], {});
    const answer = await exchange(proxy.socketPath, `CONNECT evil.example:443 HTTP/1.1\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toContain(
      'agentk: CONNECT evil.example:443 refused (kernel.sandbox-network-not-allowed)',
    );
    expect(lookedUp).toEqual([]);
    expect(attempts).toEqual([
      expect.objectContaining({
        method: 'CONNECT',
        target: 'https://evil.example:443',
        refusal: expect.objectContaining({ rule: 'kernel.sandbox-network-not-allowed' }),
      }),
    ]);
    await proxy.close();
  });

  it('refuses a listed name that resolves to a loopback or private address (DNS rebinding)', async () => {
    const { proxy, attempts } = await proxyWith([`rebind.example:${port}`], {
      'rebind.example': ['93.184.216.34', '127.0.0.1'],
    });
    const answer = await exchange(proxy.socketPath, get('rebind.example', port));
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toContain(
      'refused (kernel.sandbox-network-address): rebind.example resolved to 127.0.0.1',
    );
    expect(attempts.map((a) => a.refusal?.rule)).toEqual(['kernel.sandbox-network-address']);
    await proxy.close();
  });

  it('lets localhost reach loopback, forwards to the checked address, and the recorder may still refuse', async () => {
    const { proxy, attempts } = await proxyWith([`localhost:${port}`], {
      localhost: ['127.0.0.1'],
    });
    const answer = await exchange(proxy.socketPath, get('localhost', port));
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('upstream');
    expect(attempts).toEqual([
      { method: 'GET', host: 'localhost', port, target: `http://localhost:${port}`, refusal: null },
    ]);
    await proxy.close();
    const refusing = await proxyWith(
      [`localhost:${port}`],
      { localhost: ['127.0.0.1'] },
      {
        allowed: false,
        rule: 'deny-rest',
        reason: 'the policy says no',
      },
    );
    const refused = await exchange(
      refusing.proxy.socketPath,
      `CONNECT localhost:${port} HTTP/1.1\r\n\r\n`,
    );
    expect(refused).toContain(
      `agentk: CONNECT localhost:${port} refused (deny-rest): the policy says no`,
    );
    await refusing.proxy.close();
  });

  it('connects to the checked addresses in turn: localhost as ::1 and 127.0.0.1 reaches the one that listens', async () => {
    const { proxy, lookedUp } = await proxyWith([`localhost:${port}`], {
      localhost: ['::1', '127.0.0.1'],
    });
    const tunnel = await exchange(
      proxy.socketPath,
      `CONNECT localhost:${port} HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    expect(tunnel).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK/);
    expect(tunnel).toContain('upstream');
    expect(await exchange(proxy.socketPath, get('localhost', port))).toContain('upstream');
    // Resolved once per attempt, by the proxy's resolver only.
    expect(lookedUp).toEqual(['localhost', 'localhost']);
    await proxy.close();
  });

  it('refuses what it cannot record (fail closed)', async () => {
    const proxy = await EgressProxy.open({
      allow: [entry(`localhost:${port}`)],
      record: () => {
        throw new Error('the trace is closed');
      },
      resolve: async () => ['127.0.0.1'],
    });
    const answer = await exchange(proxy.socketPath, `CONNECT localhost:${port} HTTP/1.1\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toContain('refused (kernel.sandbox-network-unrecorded)');
    await proxy.close();
  });

  it('reads addresses as the allow-list means them', () => {
    expect(addressProblem(entry('api.github.com:443'), '140.82.112.5')).toBeNull();
    for (const address of ['10.1.2.3', '169.254.169.254', '::1', 'fd00::1', '::ffff:127.0.0.1']) {
      expect(addressProblem(entry('api.github.com:443'), address)).toMatch(/private or reserved/);
    }
    expect(addressProblem(entry('localhost:80'), '127.0.0.1')).toBeNull();
    expect(addressProblem(entry('localhost:80'), '10.0.0.1')).toMatch(/not a loopback/);
    expect(addressProblem(entry('10.0.0.7:5432'), '10.0.0.7')).toBeNull();
    expect(addressProblem(entry('[::1]:80'), '::1')).toBeNull();
  });
});
