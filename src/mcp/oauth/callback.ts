// The loopback listener `agentk login` waits on for the authorization server's redirect
// (RFC 8252's loopback redirect): 127.0.0.1 on a port the system picks, one path
// (/callback), GET only, and one sign-in: the first callback that carries the expected
// `state` is taken; one whose state does not match ends the login refused (it was not
// started here: a forged or stale redirect), and so does an error the server sends back.
// The browser's page is answered only once the code was exchanged, so it tells the truth.
// The code is handed to the caller and never shown.
// Input distrusted: every request that reaches the port (any local process can send one).

import { timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A login that cannot finish, in words for the person running it. */
export class LoginFailure extends Error {
  override readonly name = 'LoginFailure';
}

export interface Arrival {
  /** The authorization code (a secret: passed to the exchange, never shown). */
  readonly code: string;
  /** Answer the browser's page: signed in, or why not. */
  respond(ok: boolean, text: string): void;
}

export interface CallbackListener {
  /** http://127.0.0.1:PORT/callback */
  readonly redirectUrl: string;
  /** The first callback that carries `state`, or a LoginFailure (refused, or none in time). */
  wait(state: string, timeoutMs: number): Promise<Arrival>;
  close(): Promise<void>;
}

const PATH = '/callback';

function page(response: ServerResponse, status: number, text: string): void {
  const body = `<!doctype html><meta charset="utf-8"><title>AgentK</title><p>${text}</p>\n`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'",
    'referrer-policy': 'no-referrer',
    connection: 'close',
  });
  response.end(body);
}

function sameState(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Start listening on 127.0.0.1 (a port the system picks). */
export async function listenForCallback(): Promise<CallbackListener> {
  let handle: ((url: URL, response: ServerResponse) => void) | null = null;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== PATH) return page(response, 404, 'Not here.');
    if (request.method !== 'GET') return page(response, 405, 'Only GET.');
    if (handle === null)
      return page(response, 409, 'This sign-in is over; run agentk login again.');
    handle(url, response);
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    redirectUrl: `http://127.0.0.1:${port}${PATH}`,
    wait(state, timeoutMs) {
      return new Promise<Arrival>((resolve, reject) => {
        const timer = setTimeout(() => {
          handle = null;
          reject(
            new LoginFailure(
              `no sign-in came back within ${Math.ceil(timeoutMs / 1000)} s; nothing was stored: run agentk login again`,
            ),
          );
        }, timeoutMs);
        handle = (url, response) => {
          handle = null;
          clearTimeout(timer);
          const settled = arrival(url, state, response);
          if (settled instanceof LoginFailure) reject(settled);
          else resolve(settled);
        };
      });
    },
    async close() {
      // The last page is still being sent: idle connections go now, the rest within 1 s.
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), 1000);
      timer.unref();
      await new Promise((resolve) => server.close(resolve));
      clearTimeout(timer);
    },
  };
}

/** What one callback request brings: the code, or why the login ends here. */
function arrival(url: URL, state: string, response: ServerResponse): Arrival | LoginFailure {
  const params = url.searchParams;
  if (!sameState(params.get('state'), state)) {
    page(response, 400, 'AgentK refused this sign-in: it does not answer the one AgentK started.');
    return new LoginFailure(
      'the callback did not carry the state of this sign-in: refused, nothing was stored (a redirect this login did not start); run agentk login again',
    );
  }
  const error = params.get('error');
  if (error !== null) {
    // Only a plain error code is repeated: the description is the server's text.
    const named = /^[a-z_]{1,64}$/.test(error) ? error : 'an error';
    page(response, 400, 'The sign-in was refused. You can close this tab.');
    return new LoginFailure(
      `the authorization server refused the sign-in (${named}); nothing was stored`,
    );
  }
  const code = params.get('code');
  if (code === null || code === '') {
    page(response, 400, 'No authorization code came back.');
    return new LoginFailure('the callback carried no authorization code; nothing was stored');
  }
  return {
    code,
    respond: (ok, text) => page(response, ok ? 200 : 400, text),
  };
}
