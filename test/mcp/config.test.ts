// docs/mcp-proxy.md shows how to put AgentK in front of a server in an MCP client's
// `mcpServers` configuration; this runs exactly that block with the official client.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

interface ServerConfig {
  command: string;
  args: string[];
}

describe('the mcpServers configuration in docs/mcp-proxy.md', () => {
  it('starts the filesystem server behind AgentK and serves the official client', async () => {
    const doc = readFileSync(join(PACKAGE_ROOT, 'docs', 'mcp-proxy.md'), 'utf8');
    const block = /```json\n([\s\S]*?)```/.exec(doc)?.[1] as string;
    const config = JSON.parse(block) as { mcpServers: Record<string, ServerConfig> };
    const entry = config.mcpServers.filesystem as ServerConfig;
    expect(entry.command).toBe('agentk');
    const dashes = entry.args.indexOf('--');
    expect(entry.args.slice(0, dashes)).toEqual(['mcp-proxy-stdio', '--server-id', 'fs']);
    expect(entry.args.slice(dashes + 1, dashes + 4)).toEqual([
      'npx',
      '-y',
      '@modelcontextprotocol/server-filesystem',
    ]);

    // Offline, `agentk` is this checkout's bin and `npx -y <server>` its installed copy.
    const dir = mkdtempSync(join(tmpdir(), 'agentk-config-'));
    writeFileSync(join(dir, 'todo.txt'), 'ship v0.1\n');
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-client-'));
    const serverJs = join(
      PACKAGE_ROOT,
      'node_modules',
      '@modelcontextprotocol',
      'server-filesystem',
      'dist',
      'index.js',
    );
    const args = [
      join(PACKAGE_ROOT, 'bin', 'agentk.js'),
      ...entry.args.slice(0, dashes + 1),
      process.execPath,
      serverJs,
      dir,
    ];
    const client = new Client({ name: 'config-test', version: '1' }, { capabilities: {} });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args,
        cwd,
        stderr: 'ignore',
        env: { PATH: process.env.PATH ?? '', AGENTK_HOME: process.env.AGENTK_HOME ?? '' },
      }),
    );
    const read = (await client.callTool({
      name: 'read_text_file',
      arguments: { path: join(dir, 'todo.txt') },
    })) as {
      content: { text: string }[];
    };
    expect(read.content[0]?.text).toBe('ship v0.1\n');
    await client.close();
  });
});
