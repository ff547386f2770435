// The HTTP path: an MCP client reaching a Streamable HTTP server (bench/trivial-http-server.mjs)
// directly, and through `agentk mcp-proxy-stdio --url` (the client speaks stdio to AgentK,
// AgentK speaks Streamable HTTP to the server). Both sides use the official SDK's Client, so
// the difference is the proxy. Sequential round trips, interleaved rounds.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { interleavedCalls, ROOT, summary } from './lib.mjs';

/** Start the HTTP server; resolves with its MCP URL once it listens. */
async function startServer() {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'trivial-http-server.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let seen = '';
  for await (const chunk of child.stdout) {
    seen += chunk;
    const match = /listening (\d+)/.exec(seen);
    if (match) return { child, url: `http://127.0.0.1:${match[1]}/mcp` };
  }
  throw new Error('the HTTP bench server exited before listening');
}

async function connect(transport) {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  await client.listTools();
  return {
    client,
    async call(n) {
      const result = await client.callTool({ name: 'lookup', arguments: { n } });
      if (result.isError) throw new Error(`not a result: ${JSON.stringify(result)}`);
    },
  };
}

/**
 * Median and p99 of `calls` sequential `tools/call`s per round, `rounds` rounds interleaved
 * between the direct session and the one through AgentK, after a warm-up.
 */
export async function httpRoundTrip({ bin, work, warmup, rounds, calls }) {
  const server = await startServer();
  const trace = join(work, 'http-trace.jsonl');
  const sessions = {
    direct: await connect(new StreamableHTTPClientTransport(new URL(server.url))),
    agentk: await connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [
          bin,
          'mcp-proxy-stdio',
          '--server-id',
          'bench',
          '--quiet',
          '--trace-out',
          trace,
          '--pins-dir',
          join(work, 'http-pins'),
          '--approvals-dir',
          join(work, 'http-approvals'),
          '--url',
          server.url,
        ],
        stderr: 'ignore',
      }),
    ),
  };
  let samples;
  try {
    samples = await interleavedCalls(sessions, { warmup, rounds, calls });
  } finally {
    for (const s of Object.values(sessions)) await s.client.close();
    server.child.kill();
    await once(server.child, 'exit');
  }
  return { direct: summary(samples.direct), agentk: summary(samples.agentk) };
}
