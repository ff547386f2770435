// Run the stdio proxy in-process in front of a child, with a raw line client.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { approvalFiles } from '../../src/evidence/approvals.js';
import { developmentSigner } from '../../src/evidence/keys.js';
import { PinStore } from '../../src/kernel/catalogue/pins.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { LineReader } from '../../src/mcp/framing.js';
import { type ProxyOptions, StdioProxy } from '../../src/mcp/proxy/stdio.js';
import type { ProxyExit } from '../../src/mcp/proxy/types.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { type Json, parseLog } from './forge.js';
import { policyAt } from './kernel.js';

export const FAULT_SERVER = join(PACKAGE_ROOT, 'test', 'fixtures', 'mcp', 'fault-server.mjs');
/** The default policy with the fault server's tools classified as reads. */
export const FAULT_POLICY = join(PACKAGE_ROOT, 'test', 'fixtures', 'mcp', 'fault-policy.toml');

export interface RawSession {
  readonly trace: string;
  readonly proxy: StdioProxy;
  readonly lines: Record<string, unknown>[];
  /** Every line the client received, as bytes (decoded), before parsing. */
  readonly rawLines: string[];
  send(line: string): void;
  request(
    method: string,
    params?: Record<string, unknown>,
    id?: string | number,
  ): Promise<Record<string, unknown>>;
  waitFor(
    predicate: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  initialize(): Promise<void>;
  close(): Promise<ProxyExit>;
}

let counter = 0;

export async function rawSession(
  options: Partial<ProxyOptions> & {
    serverArgs?: string[];
    env?: Record<string, string>;
    policyPath?: string;
    pinsDir?: string;
    approvalsDir?: string;
  } = {},
): Promise<RawSession> {
  const dir = mkdtempSync(join(tmpdir(), 'agentk-proxy-'));
  const trace = join(dir, 'trace.jsonl');
  const { serverArgs, env, policyPath, pinsDir, approvalsDir, ...rest } = options;
  const kernel = new Kernel({
    policy: policyAt(policyPath ?? FAULT_POLICY),
    signer: developmentSigner(),
    trace: { path: trace },
    ...(pinsDir ? { pins: new PinStore(pinsDir) } : {}),
    ...(approvalsDir ? { approvalSource: approvalFiles(approvalsDir, developmentSigner()) } : {}),
  });
  const input = new PassThrough();
  const output = new PassThrough();
  const proxy = new StdioProxy({
    kernel,
    serverId: 'fault',
    command: process.execPath,
    args: serverArgs ?? [FAULT_SERVER],
    env: { PATH: process.env.PATH ?? '', ...env },
    input,
    output,
    ...rest,
  });
  const tap = lineTap(output);
  await proxy.start();
  const session: RawSession = {
    trace,
    proxy,
    lines: tap.lines,
    rawLines: tap.rawLines,
    send: (line) => input.write(`${line}\n`),
    waitFor: tap.waitFor,
    request(method, params = {}, id = `r${++counter}`) {
      input.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      return session.waitFor((m) => m.id === id && !('method' in m));
    },
    async initialize() {
      await session.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 't', version: '1' },
      });
      session.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    },
    async close() {
      input.end();
      return proxy.done;
    },
  };
  return session;
}

export function traceText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** The events of a trace, parsed, in order. */
export function traceEvents(path: string): Json[] {
  return parseLog(traceText(path));
}

type Message = Record<string, unknown>;

/** The JSON-RPC error code of an answer, if it is an error. */
export const errorCode = (answer: Message) => (answer.error as { code?: number } | undefined)?.code;

/** The syscalls of a trace with their verdicts, in order. */
export const traceSyscalls = (trace: string) =>
  traceEvents(trace)
    .filter((event) => event.type === 'syscall')
    .map((event) => ({
      ...(event.syscall as { kind: string; target: string; labels: string[] }),
      verdict: (event.decision as { verdict: string }).verdict,
    }));

/** Every JSON line a stream carries, kept in order, with a wait for one that matches. */
export interface LineTap {
  readonly lines: Message[];
  readonly rawLines: string[];
  waitFor(predicate: (message: Message) => boolean, timeoutMs?: number): Promise<Message>;
}

export function lineTap(stream: NodeJS.ReadableStream): LineTap {
  const lines: Message[] = [];
  const rawLines: string[] = [];
  const waiters: { predicate: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  const reader = new LineReader(64 * 1024 * 1024, {
    line: (text) => {
      rawLines.push(text as string);
      const message = JSON.parse(text as string) as Message;
      lines.push(message);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(message)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    },
    oversize: () => {
      throw new Error('client got an oversized line');
    },
  });
  stream.on('data', (chunk: Buffer) => reader.push(chunk));
  return {
    lines,
    rawLines,
    // A bound on an event wait, not a delay: a passing test never waits for it. Under the
    // test's own timeout (60 s), and far above what a busy 2-core machine takes (10 s was not).
    waitFor(predicate, timeoutMs = 45_000) {
      const found = lines.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('timed out waiting for a message')),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

/** Wait for a condition the proxy reaches by itself (checked every 20 ms, for up to 20 s). */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 20) {
    if (waited > 20_000) throw new Error('condition not reached in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
