// The real proxy binary (bin/agentk.js mcp-proxy-stdio) in front of the script server
// (test/fixtures/mcp/script-server.mjs), with a raw line client: what a user's client and
// a hostile server would see and do, nothing in process.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { type LineTap, lineTap } from './proxy.js';

const AGENTK = join(PACKAGE_ROOT, 'bin', 'agentk.js');
export const SCRIPT_SERVER = join(PACKAGE_ROOT, 'test', 'fixtures', 'mcp', 'script-server.mjs');

type Message = Record<string, unknown>;

export interface BinarySession extends LineTap {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly trace: string;
  send(message: Message | string): void;
  request(method: string, params?: Message, id?: string | number): Promise<Message>;
  initialize(capabilities?: Message): Promise<Message>;
  /** End the client's input and wait for the proxy to exit. */
  close(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** The lines the server received, as it received them. */
  received(): string[];
  /** The server's process id, once it has started. */
  serverPid(): number | undefined;
}

export interface BinaryOptions {
  /** The state directory (pins, approvals); a fresh one by default. */
  readonly dir?: string;
  readonly serverId?: string;
  readonly args?: readonly string[];
  /** Options for node itself, before the proxy's script (e.g. `--import` a test hook). */
  readonly nodeArgs?: readonly string[];
  /** Added to the proxy's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

let sessions = 0;
let requests = 0;

/** Start the proxy binary in front of a server that answers from `script`. */
export function binarySession(script: Message, options: BinaryOptions = {}): BinarySession {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'agentk-bin-'));
  const run = join(dir, `run-${++sessions}`);
  mkdirSync(run, { recursive: true });
  const scriptFile = join(run, 'script.json');
  const receivedLog = join(run, 'received.log');
  const trace = join(run, 'trace.jsonl');
  writeFileSync(scriptFile, JSON.stringify(script));
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      AGENTK,
      'mcp-proxy-stdio',
      '--server-id',
      options.serverId ?? 'srv',
      '--trace-out',
      trace,
      '--pins-dir',
      join(dir, 'pins'),
      '--approvals-dir',
      join(dir, 'approvals'),
      ...(options.args ?? []),
      '--',
      process.execPath,
      SCRIPT_SERVER,
      scriptFile,
      receivedLog,
    ],
    {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const tap = lineTap(child.stdout as NodeJS.ReadableStream);
  const send = (message: Message | string) =>
    child.stdin?.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
  const session: BinarySession = {
    ...tap,
    child,
    dir,
    trace,
    send,
    request(method, params = {}, id = `q${++requests}`) {
      send({ jsonrpc: '2.0', id, method, params });
      return tap.waitFor((m) => m.id === id && !('method' in m));
    },
    async initialize(capabilities = {}) {
      const answer = await session.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities,
        clientInfo: { name: 'redteam', version: '1' },
      });
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      return answer;
    },
    async close() {
      child.stdin?.end();
      const { code, signal } = await exited;
      return { code, signal, stderr };
    },
    serverPid() {
      const file = `${receivedLog}.pid`;
      return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
    },
    received() {
      if (!existsSync(receivedLog)) return [];
      return readFileSync(receivedLog, 'utf8').split('\n').filter(Boolean);
    },
  };
  return session;
}
