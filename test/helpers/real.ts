// Real MCP software for integration tests: the reference servers installed from npm, the
// official SDK client, and the proxy binary in between (each client closed after the file).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { afterAll } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');
const server = (name: string) =>
  join(PACKAGE_ROOT, 'node_modules', '@modelcontextprotocol', name, 'dist', 'index.js');
export const EVERYTHING = server('server-everything');
export const FILESYSTEM = server('server-filesystem');
export const MEMORY = server('server-memory');

const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
});

/** The official SDK client, connected over stdio to `command args`, declaring `capabilities`. */
export async function connect(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  capabilities: ClientCapabilities = {},
): Promise<Client> {
  const transport = new StdioClientTransport({
    command,
    args,
    env: { PATH: process.env.PATH ?? '', AGENTK_HOME: process.env.AGENTK_HOME ?? '', ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'agentk-test', version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** The proxy binary's command line in front of a node server (`child`: its script and args). */
export function proxied(
  serverId: string,
  trace: string,
  child: string[],
  extra: string[] = [],
): [string, string[]] {
  return [
    process.execPath,
    [
      BIN,
      'mcp-proxy-stdio',
      '--server-id',
      serverId,
      '--trace-out',
      trace,
      ...extra,
      '--',
      process.execPath,
      ...child,
    ],
  ];
}

export function tempTrace(): string {
  return join(mkdtempSync(join(tmpdir(), 'agentk-real-')), 'trace.jsonl');
}
