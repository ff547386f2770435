// The newcomer's path of issue 15: `agentk wrap` a Claude Desktop configuration, then start
// each wrapped entry exactly as the client would (its command, args and env, through the
// official SDK client's stdio transport) and use the server through AgentK: the real
// filesystem server answers, and a variable the entry's env names reaches the server while
// one it does not name stays out.

import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { FILESYSTEM } from '../helpers/real.js';

interface Entry {
  readonly command: string;
  readonly args: string[];
  readonly env?: Record<string, string>;
}

const FAULT_SERVER = join(PACKAGE_ROOT, 'test', 'fixtures', 'mcp', 'fault-server.mjs');
const FAULT_POLICY = join(PACKAGE_ROOT, 'test', 'fixtures', 'mcp', 'fault-policy.toml');

const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
});

/** Start an entry as Claude Desktop does: command and args as written, env on top of its own. */
async function startAsClient(entry: Entry, cwd: string, clientEnv: Record<string, string>) {
  const transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args,
    cwd,
    env: { ...clientEnv, ...entry.env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'wrap-test', version: '1' }, { capabilities: {} });
  await client.connect(transport);
  clients.push(client);
  return client;
}

describe('a Claude Desktop configuration after agentk wrap', () => {
  it('runs the filesystem server and a server that needs its env, both behind AgentK', async () => {
    const work = realpathSync(mkdtempSync(join(tmpdir(), 'agentk-wrap-work-')));
    writeFileSync(join(work, 'todo.txt'), 'ship v0.1\n');
    const dir = mkdtempSync(join(tmpdir(), 'agentk-wrap-desktop-'));
    const file = join(dir, 'claude_desktop_config.json');
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          mcpServers: {
            filesystem: { command: process.execPath, args: [FILESYSTEM, work] },
            fault: {
              command: process.execPath,
              args: [FAULT_SERVER],
              env: { WRAP_MARKER: 'from-the-config' },
            },
          },
        },
        null,
        2,
      )}\n`,
    );
    const wrapFs = await runCli(['wrap', file, '--server', 'filesystem']);
    expect(wrapFs.code, wrapFs.stderr).toBe(0);
    const wrapFault = await runCli(['wrap', file, '--server', 'fault', '--policy', FAULT_POLICY]);
    expect(wrapFault.code, wrapFault.stderr).toBe(0);
    const servers = JSON.parse(readFileSync(file, 'utf8')).mcpServers as Record<string, Entry>;

    // What the client gives every server it starts: its own PATH and AgentK's state home
    // (the tests'), plus a variable the configuration does not name.
    const clientEnv = {
      PATH: process.env.PATH ?? '',
      AGENTK_HOME: process.env.AGENTK_HOME ?? '',
      NOT_NAMED: 'client-only',
    };
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-wrap-client-'));
    const fs = await startAsClient(servers.filesystem as Entry, cwd, clientEnv);
    expect(fs.getServerVersion()?.name).toMatch(/filesystem/i);
    const read = (await fs.callTool({
      name: 'read_text_file',
      arguments: { path: join(work, 'todo.txt') },
    })) as { content: { text: string }[]; isError?: boolean };
    expect(read.isError).not.toBe(true);
    expect(read.content[0]?.text).toBe('ship v0.1\n');

    const fault = await startAsClient(servers.fault as Entry, cwd, clientEnv);
    const vars = (await fault.callTool({ name: 'show-vars', arguments: {} })) as {
      content: { text: string }[];
    };
    // The server sees the name its entry's env set, and of the client's own environment
    // (the SDK adds HOME, USER, SHELL, TERM to it, as clients do) only PATH and HOME.
    const names = JSON.parse(vars.content[0]?.text ?? '[]') as string[];
    expect(names).toContain('WRAP_MARKER');
    expect(names).toContain('PATH');
    expect(names.filter((name) => !['HOME', 'PATH', 'WRAP_MARKER'].includes(name))).toEqual([]);
  }, 60_000);

  it('passes a name added to the env of an entry already wrapped, when wrapped again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-wrap-again-'));
    const file = join(dir, 'claude_desktop_config.json');
    const entry = (env: Record<string, string>) => ({
      mcpServers: { fault: { command: process.execPath, args: [FAULT_SERVER], env } },
    });
    writeFileSync(file, `${JSON.stringify(entry({ WRAP_MARKER: 'first' }), null, 2)}\n`);
    expect((await runCli(['wrap', file, '--policy', FAULT_POLICY])).code).toBe(0);
    // The user adds a variable to the wrapped entry's env, then wraps again.
    const wrapped = JSON.parse(readFileSync(file, 'utf8'));
    wrapped.mcpServers.fault.env.LATER_MARKER = 'added-later';
    writeFileSync(file, `${JSON.stringify(wrapped, null, 2)}\n`);
    const again = await runCli(['wrap', file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /updated\s+fault\s+already behind AgentK; now passes LATER_MARKER/,
    );
    const servers = JSON.parse(readFileSync(file, 'utf8')).mcpServers as Record<string, Entry>;
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-wrap-client-'));
    const fault = await startAsClient(servers.fault as Entry, cwd, {
      PATH: process.env.PATH ?? '',
      AGENTK_HOME: process.env.AGENTK_HOME ?? '',
    });
    const vars = (await fault.callTool({ name: 'show-vars', arguments: {} })) as {
      content: { text: string }[];
    };
    expect(JSON.parse(vars.content[0]?.text ?? '[]')).toEqual(
      expect.arrayContaining(['WRAP_MARKER', 'LATER_MARKER']),
    );
    // Nothing left to pass: left as it is.
    const third = await runCli(['wrap', file]);
    expect(third.stdout).toMatch(/left as is\s+fault\s+already behind AgentK/);
    // unwrap still gives the server's own command line back.
    expect((await runCli(['unwrap', file])).code).toBe(0);
    const restored = JSON.parse(readFileSync(file, 'utf8')).mcpServers.fault as Entry;
    expect(restored.args).toEqual([FAULT_SERVER]);
  }, 60_000);
});
