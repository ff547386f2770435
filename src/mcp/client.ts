// A minimal MCP client over a pair of streams, for AgentK's own scripted sessions (the
// demos and `agentk eval`): newline-delimited JSON-RPC, numeric ids, one waiter per
// request. It keeps every line it receives, so callers can check what reached the client.
// Input distrusted: whatever the peer writes (malformed lines are counted, never thrown).

import type { Readable, Writable } from 'node:stream';
import { LineReader } from './framing.js';

const MAX_LINE_BYTES = 16 * 1024 * 1024;

export class LineClient {
  /** Every line received, as text, in order. */
  readonly received: string[] = [];
  malformed = 0;
  readonly #out: Writable;
  readonly #waiting = new Map<number, (message: Record<string, unknown> | null) => void>();
  #next = 1;
  #closed = false;

  /** `keepLines: false` keeps nothing (for long benchmark sessions). */
  constructor(input: Readable, output: Writable, keepLines = true) {
    this.#out = output;
    output.on('error', () => {}); // a peer that exits is seen as unanswered requests
    const reader = new LineReader(MAX_LINE_BYTES, {
      line: (text) => {
        if (text === null) {
          this.malformed += 1;
          return;
        }
        if (keepLines) this.received.push(text);
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(text) as Record<string, unknown>;
        } catch {
          this.malformed += 1;
          return;
        }
        const resolve = this.#waiting.get(message.id as number);
        if (resolve && !('method' in message)) {
          this.#waiting.delete(message.id as number);
          resolve(message);
        }
      },
      oversize: () => {
        this.malformed += 1;
      },
    });
    input.on('data', (chunk: Buffer) => reader.push(chunk));
    // The peer is gone: nothing pending will be answered.
    input.on('close', () => {
      this.#closed = true;
      for (const resolve of this.#waiting.values()) resolve(null);
      this.#waiting.clear();
    });
  }

  /** Send a request and wait for its answer; rejects after `timeoutMs` or if the peer is gone. */
  request(
    method: string,
    params: Record<string, unknown>,
    timeoutMs = 15_000,
  ): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new Error(`no answer to ${method}: the peer is gone`));
        return;
      }
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, (message) => {
        clearTimeout(timer);
        if (message === null) reject(new Error(`no answer to ${method}: the peer is gone`));
        else resolve(message);
      });
      this.#out.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  /**
   * The MCP handshake (initialize, then notifications/initialized), as a client that
   * declares no capabilities. Rejects like request() when there is no answer.
   */
  async initialize(clientName: string, timeoutMs?: number): Promise<Record<string, unknown>> {
    const answer = await this.request(
      'initialize',
      {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: clientName, version: '1.0.0' },
      },
      timeoutMs,
    );
    this.notify('notifications/initialized');
    return answer;
  }

  notify(method: string, params?: Record<string, unknown>): void {
    this.#out.write(
      `${JSON.stringify({ jsonrpc: '2.0', method, ...(params ? { params } : {}) })}\n`,
    );
  }

  end(): void {
    if (!this.#out.writableEnded) this.#out.end();
  }
}
