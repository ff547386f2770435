// boundedFetch (mcp/proxy/http-bounds.ts) gives each request a signal of its own, linked
// to the one long-lived signal the SDK passes every request of a transport, and unlinks it
// once the request is done. Passed straight to fetch, that signal kept one listener per
// request until the request was garbage-collected: a busy --url session passed 1,500 and
// Node printed MaxListenersExceededWarning on AgentK's stderr, line after line.

import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedFetch } from '../../src/mcp/proxy/http-bounds.js';

let url = '';
const server = createServer((request, response) => {
  if (request.url === '/json') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0"}');
  } else if (request.url === '/events') {
    response.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {}\n\n');
  } else if (request.url === '/accepted') {
    response.writeHead(202).end();
  } else {
    response.writeHead(503).end('busy');
  }
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const bounds = { limit: 1 << 20, oversize: () => {}, gate: () => null };

describe('boundedFetch and the SDK signal', () => {
  it('leaves no listener on the shared signal once each request is done', async () => {
    const shared = new AbortController();
    const fetch = boundedFetch(bounds);
    for (let round = 0; round < 50; round++) {
      for (const path of ['/json', '/events', '/accepted', '/failing']) {
        const response = await fetch(`${url}${path}`, { method: 'POST', signal: shared.signal });
        await response.text();
      }
    }
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });

  it('still aborts a request when the shared signal is aborted', async () => {
    const shared = new AbortController();
    const fetch = boundedFetch(bounds);
    const hanging = fetch(`${url}/json`, { method: 'POST', signal: shared.signal }).then(
      (response) => response.text(),
    );
    shared.abort(new Error('transport closed'));
    await expect(hanging).rejects.toThrow();
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });
});
