// The proxy binary as a Streamable HTTP endpoint (`agentk mcp-proxy-http`) in front of a
// real server, for integration tests: started on a free port (port 0, read back from its
// start line, no fixed wait), its stderr kept, stopped by a signal; and the official SDK
// client connected to it over HTTP.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { afterAll } from 'vitest';
import { BIN, EVERYTHING } from './real.js';

const children: ChildProcess[] = [];
const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

export interface Endpoint {
  readonly url: string;
  readonly child: ChildProcess;
  /** Where the traces go: trace-{run}.jsonl each. */
  readonly dir: string;
  stderr(): string;
  /** Resolves with the first stderr line matching `pattern` (already written or to come). */
  line(pattern: RegExp): Promise<string>;
  /** Send `signal` and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; stderr: string }>;
}

/**
 * `agentk mcp-proxy-http --listen 127.0.0.1:0` in front of server-everything on stdio
 * (or `command` after --), with `extra` options and `env` added to its environment.
 */
export async function startEndpoint(
  extra: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
  command: readonly string[] = [process.execPath, EVERYTHING],
): Promise<Endpoint> {
  const dir = mkdtempSync(join(tmpdir(), 'agentk-httpd-'));
  const args = [
    BIN,
    'mcp-proxy-http',
    '--listen',
    '127.0.0.1:0',
    '--server-id',
    'everything',
    '--trace-out',
    join(dir, 'trace-{run}.jsonl'),
    '--pins-dir',
    join(dir, 'pins'),
    '--approvals-dir',
    join(dir, 'approvals'),
    ...extra,
    ...(command.length > 0 ? ['--', ...command] : []),
  ];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', AGENTK_HOME: join(dir, 'home'), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const check = () => {
    for (const wait of [...waiting]) {
      const found = stderr.split('\n').find((line) => wait.pattern.test(line));
      if (found !== undefined) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve(found);
      }
    }
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    check();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      waiting.push({ pattern, resolve });
      check();
      void exited.then(() => {
        check();
        reject(new Error(`exited without a line ${pattern}; stderr:\n${stderr}`));
      });
    });
  const start = await line(/listening on http:\/\/127\.0\.0\.1:\d+\/mcp/);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(start)?.[1] as string;
  return {
    url,
    child,
    dir,
    stderr: () => stderr,
    line,
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      const code = await exited;
      return { code, stderr };
    },
  };
}

/** The official SDK client over Streamable HTTP to `url` (closed after the file). */
export async function connectHttp(
  url: string,
  capabilities: ClientCapabilities = {},
  headers: Readonly<Record<string, string>> = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { ...headers } },
  });
  const client = new Client({ name: 'agentk-test', version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

/** The trace path a session's lines name (`mediating ... trace PATH`). */
export function tracePathOf(line: string): string {
  return /trace (\S+\.jsonl)/.exec(line)?.[1] as string;
}

/** `agentk verify` (the binary) on a trace: its exit status. */
export function verified(trace: string): number | null {
  return spawnSync(process.execPath, [BIN, 'verify', trace], { encoding: 'utf8' }).status;
}
