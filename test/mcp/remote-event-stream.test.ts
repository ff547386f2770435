// afterEventStream (mcp/proxy/http-bounds.ts): once `notifications/initialized` is being
// sent to a remote server, AgentK's other POSTs wait until the GET stream the SDK opens
// next is answered, so that a request the server sends there is not dropped for want of a
// stream. A fake fetch stands for the server; each step waits on the one before.

import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describe, expect, it, vi } from 'vitest';
import { afterEventStream } from '../../src/mcp/proxy/http-bounds.js';

const INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
const CALL = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: {} });

/** A fetch whose answers the test releases one by one, with the order they reached it. */
function fakeServer() {
  const seen: string[] = [];
  const waiting = new Map<string, (response: Response) => void>();
  const inner: FetchLike = (_url, init) => {
    const what =
      init?.method === 'GET'
        ? 'GET'
        : String(init?.body).includes('initialized')
          ? 'initialized'
          : 'call';
    seen.push(what);
    return new Promise((resolve) => waiting.set(what, resolve));
  };
  const answer = (what: string, status: number) =>
    waiting.get(what)?.(new Response(null, { status }));
  return { seen, inner, answer };
}

const post = (body: string) => ({ method: 'POST', body });
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('afterEventStream', () => {
  it('holds a request sent with initialized until the GET stream is answered', async () => {
    const server = fakeServer();
    const fetch = afterEventStream(server.inner);
    const initialized = fetch('http://x/mcp', post(INITIALIZED));
    const call = fetch('http://x/mcp', post(CALL));
    await flush();
    expect(server.seen).toEqual(['initialized']);
    server.answer('initialized', 202);
    await initialized;
    const stream = fetch('http://x/mcp', { method: 'GET' });
    await flush();
    expect(server.seen).toEqual(['initialized', 'GET']);
    server.answer('GET', 200);
    await stream;
    await flush();
    expect(server.seen).toEqual(['initialized', 'GET', 'call']);
    server.answer('call', 200);
    expect((await call).status).toBe(200);
  });

  it('lets requests go when initialized is refused, or no stream is opened in 2 s', async () => {
    const refused = fakeServer();
    const fetch = afterEventStream(refused.inner);
    const initialized = fetch('http://x/mcp', post(INITIALIZED));
    const call = fetch('http://x/mcp', post(CALL));
    refused.answer('initialized', 400);
    await initialized;
    await flush();
    expect(refused.seen).toEqual(['initialized', 'call']);
    refused.answer('call', 200);
    await call;

    vi.useFakeTimers();
    try {
      const silent = fakeServer();
      const later = afterEventStream(silent.inner);
      const first = later('http://x/mcp', post(INITIALIZED));
      silent.answer('initialized', 202);
      await first;
      const next = later('http://x/mcp', post(CALL));
      await vi.advanceTimersByTimeAsync(1999);
      expect(silent.seen).toEqual(['initialized']);
      await vi.advanceTimersByTimeAsync(1);
      expect(silent.seen).toEqual(['initialized', 'call']);
      silent.answer('call', 200);
      await next;
    } finally {
      vi.useRealTimers();
    }
  });
});
