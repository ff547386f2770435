// The official MCP SDK's Client, mediated in process: a Transport the Client connects to
// that runs AgentK's proxy session in front of the real server (a child over stdio, or a
// remote server over Streamable HTTP). Every request and answer, server requests and
// notifications included, goes through the same session as `agentk mcp-proxy-stdio`:
// the same syscalls, trace and refusals, with in-memory streams in place of stdin/stdout.
// Input distrusted: everything the server sends (the session's, as for the proxy).

import { PassThrough } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { shownUrl } from '../config/variables.js';
import type { Kernel } from '../kernel/kernel.js';
import { LineReader } from '../mcp/framing.js';
import { RemoteProxy } from '../mcp/proxy/remote.js';
import { childEnvironment, StdioProxy } from '../mcp/proxy/stdio.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type ProxyExit } from '../mcp/proxy/types.js';

export interface SessionChoices {
  /** The server's id: the first part of every target (`<server>/<tool>`), as in the policy. */
  readonly serverId: string;
  /** How long a request may go without an answer or progress (default 30 s). */
  readonly responseTimeoutMs?: number;
  readonly maxMessageBytes?: number;
  /** Told one line per refused request. */
  readonly onDenial?: (line: string) => void;
}

export interface MediatedStdioServer extends SessionChoices {
  readonly command: string;
  readonly args?: readonly string[];
  /** The server's whole environment; default PATH and HOME only (secrets stay out). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface MediatedRemoteServer extends SessionChoices {
  readonly url: URL;
  /** Sent with every request (credentials: never traced or shown). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A Transport for the SDK's `Client` with AgentK in front of `server`: a child process
 * (`command`) or a remote Streamable HTTP server (`url`). `kernel` decides and records
 * every message; closing the transport seals the session's log (`kernel.close()`).
 */
export function mediatedTransport(
  kernel: Kernel,
  server: MediatedStdioServer | MediatedRemoteServer,
): MediatedTransport {
  return new MediatedTransport(kernel, server);
}

export class MediatedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #input = new PassThrough();
  readonly #output = new PassThrough();
  readonly #proxy: StdioProxy | RemoteProxy;
  #exit: ProxyExit | null = null;

  constructor(kernel: Kernel, server: MediatedStdioServer | MediatedRemoteServer) {
    const session = {
      kernel,
      serverId: server.serverId,
      input: this.#input,
      output: this.#output,
      ...(server.responseTimeoutMs !== undefined
        ? { responseTimeoutMs: server.responseTimeoutMs }
        : {}),
      ...(server.maxMessageBytes !== undefined ? { maxMessageBytes: server.maxMessageBytes } : {}),
      ...(server.onDenial ? { onDenial: server.onDenial } : {}),
    };
    this.#proxy =
      'url' in server
        ? new RemoteProxy({
            ...session,
            url: server.url,
            shown: shownUrl(server.url),
            headers: server.headers ?? {},
          })
        : new StdioProxy({
            ...session,
            command: server.command,
            args: server.args ?? [],
            env: server.env ?? childEnvironment(process.env, []),
            ...(server.cwd !== undefined ? { cwd: server.cwd } : {}),
          });
  }

  /** How the session ended (null while it runs). */
  get exit(): ProxyExit | null {
    return this.#exit;
  }

  async start(): Promise<void> {
    const reader = new LineReader(DEFAULT_MAX_MESSAGE_BYTES * 4, {
      // The session wrote these lines itself (JSON it built): parsed, never trusted raw.
      line: (text) => {
        if (text !== null) this.onmessage?.(JSON.parse(text) as JSONRPCMessage);
      },
      oversize: () => this.onerror?.(new Error('a message from AgentK exceeded the limit')),
    });
    this.#output.on('data', (chunk: Buffer) => reader.push(chunk));
    this.#output.on('end', () => reader.end());
    void this.#proxy.done.then((exit) => {
      this.#exit = exit;
      this.onclose?.();
    });
    await this.#proxy.start();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#exit !== null) throw new Error(`the mediated session ended: ${this.#exit.reason}`);
    this.#input.write(`${JSON.stringify(message)}\n`);
  }

  /** End the session: answered, sealed, the server stopped. */
  async close(): Promise<void> {
    this.#input.end();
    await this.#proxy.done;
  }
}
