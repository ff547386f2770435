// The viewer's local server: 127.0.0.1 only, one random token in the path, GET only. A
// request without the token (another local user, a web page guessing ports) gets 403; a
// request naming another host (DNS rebinding) gets 403 too. The page is rebuilt when the
// log changed since the last request, so a reload shows a log that grew; in live mode
// (--follow) the page also listens to `events` beside it (server-sent events), where what
// was appended to the log is sent as it comes (live.ts).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { digestEquals, randomHex } from '../crypto/index.js';
import { type LiveSource, LiveStreams } from './live.js';
import type { ViewPage } from './page.js';

export interface ViewServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const LOOPBACK = '127.0.0.1';

function refuse(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  response.end(`${text}\n`);
}

/** Whether the Host header names this server on loopback (not a rebound domain name). */
function hostOk(request: IncomingMessage, port: number): boolean {
  const host = request.headers.host;
  return host === `${LOOPBACK}:${port}` || host === `localhost:${port}`;
}

/** The token and resource of a path `/TOKEN/` (the page), `/TOKEN/events` or `/TOKEN/details`. */
function pathOf(
  url: string | undefined,
): { token: string; resource: 'page' | 'events' | 'details' } | null {
  const path = (url ?? '').split('?')[0] ?? '';
  const match = /^\/([0-9a-f]{64})(?:\/(events|details)?)?$/.exec(path);
  if (!match) return null;
  return { token: match[1] as string, resource: (match[2] as 'events' | 'details') ?? 'page' };
}

/** Details sent at most this many events a request. */
const DETAILS_PER_REQUEST = 1000;

/**
 * `details?b=BUILD&from=A&to=B`: the events' details of the page's build, as a JSON array
 * of their texts; 409 when the page is of another build (the log changed: reload).
 */
function sendDetails(response: ServerResponse, url: string | undefined, built: ViewPage): void {
  const query = new URLSearchParams((url ?? '').split('?')[1] ?? '');
  const number = (name: string) => {
    const text = query.get(name);
    return text !== null && /^\d{1,9}$/.test(text) ? Number(text) : -1;
  };
  const from = number('from');
  const to = number('to');
  if (built.details === undefined || query.get('b') !== built.details.build) {
    refuse(response, 409, 'the log changed since this page was built: reload it');
    return;
  }
  if (from < 0 || to < from || to - from > DETAILS_PER_REQUEST) {
    refuse(response, 400, 'bad range');
    return;
  }
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'cross-origin-resource-policy': 'same-origin',
  });
  response.end(`[${built.details.texts.slice(from, to).join(',')}]`);
}

/** What the page's event stream says it holds: `?g=BUILD&n=ROWS` (else nothing: -1, 0). */
function heldOf(url: string | undefined): { generation: number; count: number } {
  const query = new URLSearchParams((url ?? '').split('?')[1] ?? '');
  const number = (text: string | null, none: number) =>
    text !== null && /^\d{1,9}$/.test(text) ? Number(text) : none;
  return { generation: number(query.get('g'), -1), count: number(query.get('n'), 0) };
}

/**
 * Serve `page()` on 127.0.0.1:`port` (0: a free port) under a fresh random token. `page`
 * is called per request; it may cache. Errors building it answer 500 without details.
 */
export function serveView(page: () => ViewPage, port = 0, live?: LiveSource): Promise<ViewServer> {
  const token = randomHex(32);
  const streams = live ? new LiveStreams(live) : null;
  const server = createServer((request, response) => {
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    if (!hostOk(request, bound)) return refuse(response, 403, 'forbidden: unexpected Host');
    const given = pathOf(request.url);
    if (given === null || !digestEquals(given.token, token)) {
      return refuse(response, 403, 'forbidden: this address needs the token agentk view printed');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return refuse(response, 405, 'method not allowed');
    }
    if (given.resource === 'events') {
      if (streams === null) return refuse(response, 404, 'not live: start with --follow');
      const held = heldOf(request.url);
      return streams.add(response, held.generation, held.count);
    }
    let built: ViewPage;
    try {
      // Live: the page is built from what the streams last sent, brought up to date.
      streams?.look();
      built = page();
    } catch {
      return refuse(response, 500, 'the log could not be read; see the terminal');
    }
    if (given.resource === 'details') return sendDetails(response, request.url, built);
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `${built.csp}; frame-ancestors 'none'`,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    });
    response.end(request.method === 'HEAD' ? undefined : built.html);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      resolve({
        url: `http://${LOOPBACK}:${bound}/${token}/`,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            streams?.close();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
