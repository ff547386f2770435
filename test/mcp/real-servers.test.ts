// Real MCP software through the real proxy: the official SDK client, the reference
// servers from npm, and the inspector CLI. What a client gets through AgentK must equal
// what it gets directly, minus what policy blocks.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EmptyResultSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { traceEvents } from '../helpers/proxy.js';
import {
  BIN,
  completeDepartment,
  connect,
  EVERYTHING,
  expectSameAsDirect,
  FILESYSTEM,
  MEMORY,
  plantedHandle,
  proxied,
  tempTrace,
} from '../helpers/real.js';

const PLANTED = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

describe('@modelcontextprotocol/server-everything through the proxy', () => {
  it('lists and calls tools, resources and prompts as it does directly', async () => {
    const direct = await connect(process.execPath, [EVERYTHING]);
    const trace = tempTrace();
    const through = await connect(...proxied('everything', trace, [EVERYTHING]));

    await expectSameAsDirect(through, direct, 'hello through AgentK');
    await through.close();
    const chain = verifyLogFile(trace);
    expect(chain.ok).toBe(true);
    if (chain.ok) expect(chain.events).toBeGreaterThan(20);
  });

  it('advertises exactly what it mediates: completions, subscriptions, tasks for tools/call', async () => {
    const direct = await connect(process.execPath, [EVERYTHING]);
    const through = await connect(...proxied('everything', tempTrace(), [EVERYTHING]));
    const served = direct.getServerCapabilities() ?? {};
    // server-everything offers completions, resource subscriptions and tasks...
    expect(Object.keys(served)).toEqual(expect.arrayContaining(['completions', 'tasks']));
    expect(served.resources?.subscribe).toBe(true);
    // ...and the client hears of each as far as the proxy mediates it (tasks: test/mcp/tasks.test.ts).
    expect(through.getServerCapabilities()).toEqual({
      completions: {},
      logging: {},
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
      tools: { listChanged: true },
    });
    // A task this session did not create: refused, not forwarded.
    for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
      await expect(
        through.request({ method, params: { taskId: 't1' } } as never, EmptyResultSchema),
        method,
      ).rejects.toMatchObject({ code: -32602 });
    }
  });

  it('completes prompt and template arguments as it does directly, each a recorded syscall', async () => {
    const direct = await connect(process.execPath, [EVERYTHING]);
    const trace = tempTrace();
    const through = await connect(...proxied('everything', trace, [EVERYTHING]));
    const prompt = {
      ref: { type: 'ref/prompt' as const, name: 'completable-prompt' },
      argument: { name: 'name', value: '' },
      context: { arguments: { department: 'Sales' } },
    };
    const names = await through.complete(prompt);
    expect(names.completion.values).toEqual(['David', 'Eve', 'Frank']);
    expect(names).toEqual(await direct.complete(prompt));
    const template = {
      ref: { type: 'ref/resource' as const, uri: 'demo://resource/dynamic/text/{resourceId}' },
      argument: { name: 'resourceId', value: '1' },
    };
    expect(await through.complete(template)).toEqual(await direct.complete(template));
    await through.close();
    const events = traceEvents(trace).filter((event) => event.type === 'syscall');
    const seen = events.map((event) => {
      const call = event.syscall as { kind: string; target: string; intent: string };
      return `${call.kind} ${call.target} ${call.intent}`;
    });
    expect(seen).toEqual(
      expect.arrayContaining([
        'prompt.get everything/completable-prompt complete the argument name',
        'prompt.response everything/completable-prompt ',
        'resource.read everything/demo://resource/dynamic/text/{resourceId} complete the argument resourceId',
        'resource.response everything/demo://resource/dynamic/text/{resourceId} ',
      ]),
    );
    expect(verifyLogFile(trace).ok).toBe(true);
  });

  it('subscribes to a resource and relays its updates', async () => {
    const trace = tempTrace();
    const through = await connect(...proxied('everything', trace, [EVERYTHING]));
    const uri = 'demo://resource/dynamic/text/1';
    const updated = new Promise<string>((resolve) =>
      through.setNotificationHandler(ResourceUpdatedNotificationSchema, (note) =>
        resolve(note.params.uri),
      ),
    );
    expect(await through.subscribeResource({ uri })).toEqual({});
    // The server sends an update for each subscription as soon as updates are turned on.
    await through.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    expect(await updated).toBe(uri);
    expect(await through.unsubscribeResource({ uri })).toEqual({});
    // A URI the client never subscribed to through AgentK is not the server's to hear.
    await expect(through.unsubscribeResource({ uri: 'demo://other' })).rejects.toMatchObject({
      code: -32602,
    });
    await through.close();
    const reads = traceEvents(trace)
      .map((event) => event.syscall as { kind?: string; target?: string; intent?: string })
      .filter((call) => call?.kind === 'resource.read');
    expect(reads).toEqual([
      expect.objectContaining({ target: `everything/${uri}`, intent: 'subscribe to its updates' }),
    ]);
  });

  it('sets the log level and relays log messages, each recorded as server output', async () => {
    const trace = tempTrace();
    const through = await connect(...proxied('everything', trace, [EVERYTHING]));
    const logged = new Promise<{ level: string; data: unknown }>((resolve) =>
      through.setNotificationHandler(LoggingMessageNotificationSchema, (note) =>
        resolve(note.params),
      ),
    );
    // Only a severity reaches the server; anything else is refused here.
    expect(await through.setLoggingLevel('debug')).toEqual({});
    await expect(
      through.request(
        { method: 'logging/setLevel', params: { level: 'loud' } } as never,
        EmptyResultSchema,
      ),
    ).rejects.toMatchObject({ code: -32602 });
    // The server logs one message at once when simulated logging is turned on.
    await through.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    const message = await logged;
    expect(message.data).toMatch(/^[A-Z][a-z]+[- ]level[- ]message/i);
    await through.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    await through.close();
    const logs = traceEvents(trace)
      .map((event) => event.syscall as { kind?: string; target?: string })
      .filter((call) => call?.target === 'everything/logging');
    expect(logs.length).toBeGreaterThanOrEqual(1);
    expect(logs[0]).toMatchObject({ kind: 'tool.response' });
    expect(verifyLogFile(trace).ok).toBe(true);
  });

  it('decides a completion like any send: a handle is refused, a secret value by policy', async () => {
    // The default policy, with a rule that keeps secret values from any prompt.
    const policy = join(mkdtempSync(join(tmpdir(), 'agentk-policy-')), 'policy.toml');
    const rule = `[[rules]]
id = "deny-secret-to-prompts"
effect = "deny"
reason = "secret values are not sent to prompts"
[rules.when]
syscalls = ["prompt.get"]
labels_any = ["secret"]

`;
    const base = readFileSync(join(PACKAGE_ROOT, 'examples', 'agentk.policy.toml'), 'utf8');
    writeFileSync(policy, base.replace('[[rules]]\nid = "deny-private-egress"', `${rule}$&`));
    const trace = tempTrace();
    const through = await connect(
      ...proxied(
        'everything',
        trace,
        [EVERYTHING],
        ['--allow-env', 'PLANTED_TOKEN', '--policy', policy],
      ),
      { PLANTED_TOKEN: PLANTED },
    );
    const handle = await plantedHandle(through, PLANTED);
    const complete = (value: string) => completeDepartment(through, value);
    // The handle and the value itself (learned elsewhere) are both known to the kernel as
    // the secret it captured from get-env.
    await expect(complete(handle)).rejects.toMatchObject({ code: -32003 });
    await expect(complete(PLANTED)).rejects.toMatchObject({ code: -32003 });
    expect((await complete('Eng')).completion.values).toEqual(['Engineering']);
    await through.close();
    const decided = traceEvents(trace)
      .filter((event) => (event.syscall as { kind?: string })?.kind === 'prompt.get')
      .map((event) => (event.decision as { rule: string }).rule);
    // (Under the default policy the handle is refused too: kernel.handle-out-of-scope.)
    expect(decided).toEqual([
      'deny-secret-to-prompts',
      'deny-secret-to-prompts',
      'allow-capable-action',
    ]);
    expect(readFileSync(trace, 'utf8')).not.toContain(PLANTED);
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
