// Remote MCP servers for integration tests: server-everything in its Streamable HTTP mode
// as a real child process, small node:http servers that misbehave on purpose, and the
// proxy binary in front of either with --url, driven by the official SDK client.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { afterAll } from 'vitest';
import { BIN, EVERYTHING } from './real.js';

const children: ChildProcess[] = [];
const servers: Server[] = [];
const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
  for (const child of children) child.kill('SIGKILL');
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A port nothing listens on now (the kernel's choice; a race is unlikely and would fail loudly). */
export async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * server-everything in its Streamable HTTP mode, on a free port, with `env` added to its
 * environment; resolves once it says it listens (read from its output, not a fixed wait).
 */
export async function everythingOverHttp(env: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let said = '';
    const listen = (chunk: Buffer) => {
      said += chunk.toString('utf8');
      if (said.includes(`listening on port ${port}`)) resolve();
    };
    child.stdout?.on('data', listen);
    child.stderr?.on('data', listen);
    child.once('exit', (code) => reject(new Error(`server-everything exited (${code}): ${said}`)));
  });
  return `http://127.0.0.1:${port}/mcp`;
}

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

/** A node:http server on a free loopback port that answers every request with `handler`. */
export async function fakeRemote(handler: Handler): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => handler(request, body, response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** The proxy binary's command line in front of the remote server at `url`. */
export function remoteProxied(
  serverId: string,
  trace: string,
  url: string,
  extra: string[] = [],
): [string, string[]] {
  return [
    process.execPath,
    [BIN, 'mcp-proxy-stdio', '--server-id', serverId, '--trace-out', trace, '--url', url, ...extra],
  ];
}

/**
 * The official SDK client over stdio to `command args` (the proxy), its stderr kept. The
 * connection may fail (initialize refused): `connecting` says how, with stderr still kept.
 */
export function connectCapturing(
  [command, args]: [string, string[]],
  env: Record<string, string> = {},
  capabilities: ClientCapabilities = {},
): {
  connecting: Promise<Client>;
  stderr(): string;
  exited: Promise<void>;
  /** Every message the client received after connecting, as JSON. */
  received: string[];
} {
  const transport = new StdioClientTransport({
    command,
    args,
    env: { PATH: process.env.PATH ?? '', AGENTK_HOME: process.env.AGENTK_HOME ?? '', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'agentk-test', version: '1.0.0' }, { capabilities });
  clients.push(client);
  // The client hears of the transport's close (the proxy's exit) through its own onclose.
  const exited = new Promise<void>((resolve) => {
    client.onclose = () => resolve();
  });
  const received: string[] = [];
  const connecting = client.connect(transport).then(() => {
    const deliver = transport.onmessage;
    transport.onmessage = (message) => {
      received.push(JSON.stringify(message));
      deliver?.(message);
    };
    return client;
  });
  return { connecting, stderr: () => stderr, exited, received };
}
