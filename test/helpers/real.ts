// Real MCP software for integration tests: the reference servers installed from npm, the
// official SDK client, and the proxy binary in between (each client closed after the file).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  type ClientCapabilities,
  CreateMessageRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, expect } from 'vitest';
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

/**
 * Tools, a tool call, resources and prompts through `through` equal what `direct` gets
 * (server-everything, reached through AgentK and without it).
 */
export async function expectSameAsDirect(
  through: Client,
  direct: Client,
  echo: string,
): Promise<void> {
  const [a, b] = [await direct.listTools(), await through.listTools()];
  expect(b.tools).toEqual(a.tools);
  const call = { name: 'echo', arguments: { message: echo } };
  expect(await through.callTool(call)).toEqual(await direct.callTool(call));
  const sum = { name: 'get-sum', arguments: { a: 2, b: 40 } };
  expect(await through.callTool(sum)).toEqual(await direct.callTool(sum));
  const resources = await through.listResources();
  expect(resources).toEqual(await direct.listResources());
  const uri = resources.resources[0]?.uri as string;
  expect(await through.readResource({ uri })).toEqual(await direct.readResource({ uri }));
  expect(await through.listPrompts()).toEqual(await direct.listPrompts());
  expect(await through.getPrompt({ name: 'simple-prompt' })).toEqual(
    await direct.getPrompt({ name: 'simple-prompt' }),
  );
}

/** The secret handle server-everything's get-env result carries in place of a planted value. */
export async function plantedHandle(client: Client, planted: string): Promise<string> {
  const env = (await client.callTool({ name: 'get-env', arguments: {} })) as {
    content: { text: string }[];
  };
  expect(JSON.stringify(env)).not.toContain(planted);
  const handle = /secret_fd_[0-9a-f]{32}/.exec(env.content[0]?.text ?? '')?.[0] as string;
  expect(handle).toBeDefined();
  return handle;
}

/** Complete server-everything's completable prompt's department argument from `value`. */
export function completeDepartment(client: Client, value: string) {
  return client.complete({
    ref: { type: 'ref/prompt', name: 'completable-prompt' },
    argument: { name: 'department', value },
  });
}

/**
 * server-everything's long-running tool reports its three steps as progress, and its
 * sampling tool gets `answer` back from the client (which must declare sampling).
 */
export async function expectProgressAndSampling(client: Client, answer: string): Promise<void> {
  let progress = 0;
  const long = await client.callTool(
    { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
    undefined,
    { onprogress: () => progress++ },
  );
  expect(JSON.stringify(long)).toContain('Long running operation completed');
  expect(progress).toBe(3);
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    model: 'test-model',
    role: 'assistant',
    content: { type: 'text', text: answer },
  }));
  const sampled = await client.callTool({
    name: 'trigger-sampling-request',
    arguments: { prompt: 'say something', maxTokens: 10 },
  });
  expect(JSON.stringify(sampled)).toContain(answer);
}
