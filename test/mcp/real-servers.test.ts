// Real MCP software through the real proxy: the official SDK client, the reference
// servers from npm, and the inspector CLI. What a client gets through AgentK must equal
// what it gets directly, minus what policy blocks.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompleteResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import {
  BIN,
  connect,
  EVERYTHING,
  FILESYSTEM,
  MEMORY,
  proxied,
  tempTrace,
} from '../helpers/real.js';

const PLANTED = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

describe('@modelcontextprotocol/server-everything through the proxy', () => {
  it('lists and calls tools, resources and prompts as it does directly', async () => {
    const direct = await connect(process.execPath, [EVERYTHING]);
    const trace = tempTrace();
    const through = await connect(...proxied('everything', trace, [EVERYTHING]));

    const [a, b] = [await direct.listTools(), await through.listTools()];
    expect(b.tools).toEqual(a.tools);
    const echo = { name: 'echo', arguments: { message: 'hello through AgentK' } };
    expect(await through.callTool(echo)).toEqual(await direct.callTool(echo));
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
    await through.close();
    const chain = verifyLogFile(trace);
    expect(chain.ok).toBe(true);
    if (chain.ok) expect(chain.events).toBeGreaterThan(20);
  });

  it('withholds the capabilities it does not mediate, rather than advertise them and refuse', async () => {
    const direct = await connect(process.execPath, [EVERYTHING]);
    const through = await connect(...proxied('everything', tempTrace(), [EVERYTHING]));
    const served = direct.getServerCapabilities() ?? {};
    // server-everything offers completions, resource subscriptions and tasks...
    expect(Object.keys(served)).toEqual(expect.arrayContaining(['completions', 'tasks']));
    expect(served.resources?.subscribe).toBe(true);
    // ...which the proxy would refuse (-32601): the client never hears of them.
    expect(through.getServerCapabilities()).toEqual({
      logging: {},
      prompts: { listChanged: true },
      resources: { listChanged: true },
      tools: { listChanged: true },
    });
    await expect(
      through.request(
        {
          method: 'completion/complete',
          params: { ref: { type: 'ref/prompt', name: 'x' }, argument: { name: 'a', value: '' } },
        },
        CompleteResultSchema,
      ),
    ).rejects.toThrow();
  });

  it('replaces a planted credential with a secret handle before the client sees it (get-env)', async () => {
    const trace = tempTrace();
    const through = await connect(
      ...proxied('everything', trace, [EVERYTHING], ['--allow-env', 'PLANTED_TOKEN']),
      {
        PLANTED_TOKEN: PLANTED,
      },
    );
    const result = (await through.callTool({ name: 'get-env', arguments: {} })) as {
      isError?: boolean;
      content: { text: string }[];
    };
    // The environment dump arrives, with the credential replaced by an opaque handle.
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result)).not.toContain(PLANTED);
    expect(result.content[0]?.text).toMatch(/"PLANTED_TOKEN": "secret_fd_[0-9a-f]{32}"/);
    await through.close();
    expect(readFileSync(trace, 'utf8')).not.toContain(PLANTED);
    expect(verifyLogFile(trace).ok).toBe(true);
  });
});

describe('@modelcontextprotocol/server-filesystem through the proxy', () => {
  it('writes, reads and lists files in its directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-fs-'));
    writeFileSync(join(dir, 'hello.txt'), 'hello from the test\n');
    const trace = tempTrace();
    const direct = await connect(process.execPath, [FILESYSTEM, dir]);
    const through = await connect(...proxied('fs', trace, [FILESYSTEM, dir]));
    expect((await through.listTools()).tools.map((t) => t.name)).toEqual(
      (await direct.listTools()).tools.map((t) => t.name),
    );
    const read = { name: 'read_text_file', arguments: { path: join(dir, 'hello.txt') } };
    expect(await through.callTool(read)).toEqual(await direct.callTool(read));
    const written = await through.callTool({
      name: 'write_file',
      arguments: { path: join(dir, 'notes.md'), content: '# Notes\nwritten through AgentK\n' },
    });
    expect(written.isError).toBeFalsy();
    expect(readFileSync(join(dir, 'notes.md'), 'utf8')).toBe('# Notes\nwritten through AgentK\n');
    const listing = await through.callTool({ name: 'list_directory', arguments: { path: dir } });
    expect(JSON.stringify(listing)).toContain('notes.md');
    await through.close();
    expect(verifyLogFile(trace).ok).toBe(true);
  });
});

describe('@modelcontextprotocol/server-memory through the proxy', () => {
  it('stores and reads a knowledge graph in the file passed by --allow-env', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-memory-'));
    const file = join(dir, 'memory.jsonl');
    const trace = tempTrace();
    const through = await connect(
      ...proxied('memory', trace, [MEMORY], ['--allow-env', 'MEMORY_FILE_PATH']),
      { MEMORY_FILE_PATH: file },
    );
    const created = await through.callTool({
      name: 'create_entities',
      arguments: {
        entities: [{ name: 'AgentK', entityType: 'project', observations: ['mediates MCP'] }],
      },
    });
    expect(created.isError).toBeFalsy();
    const graph = await through.callTool({ name: 'read_graph', arguments: {} });
    expect(JSON.stringify(graph)).toContain('mediates MCP');
    expect(readFileSync(file, 'utf8')).toContain('AgentK');
    await through.close();
  });
});

describe('@modelcontextprotocol/inspector-cli', () => {
  it('drives the proxy non-interactively', () => {
    const cwd = join(PACKAGE_ROOT, 'test');
    mkdirSync(cwd, { recursive: true });
    const trace = tempTrace();
    const result = spawnSync(
      process.execPath,
      [
        join(
          PACKAGE_ROOT,
          'node_modules',
          '@modelcontextprotocol',
          'inspector-cli',
          'build',
          'cli.js',
        ),
        '--cli',
        process.execPath,
        BIN,
        'mcp-proxy-stdio',
        '--server-id',
        'everything',
        '--trace-out',
        trace,
        // The inspector eats a bare `--`, so the server is given with --command/--arg.
        '--command',
        process.execPath,
        '--arg',
        EVERYTHING,
        '--method',
        'tools/list',
      ],
      { cwd, encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const listed = JSON.parse(result.stdout) as { tools: { name: string }[] };
    expect(listed.tools.map((tool) => tool.name)).toContain('echo');
  });
});
