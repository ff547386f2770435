// The real proxy binary with --otel / [telemetry], driven by the official MCP SDK client in
// front of the reference "everything" server, exporting to a real OTLP/HTTP receiver started
// here: the spans received are the trace file's syscalls (same hashes, verdicts and rules),
// carry no argument value, result or credential, and a dead endpoint changes nothing but
// the counts printed at the end.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { closedPort, type Receiver, startReceiver } from '../helpers/otlp-receiver.js';
import { traceEvents } from '../helpers/proxy.js';
import { EVERYTHING, proxied, tempTrace } from '../helpers/real.js';
import { connectCapturing } from '../helpers/remote.js';

const PLANTED = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
const HEADER_TOKEN = 'otel-header-credential-5f0c2a9e';
const ARGUMENT = 'argument-value-that-must-stay-local-7d1e';

/** The default policy, get-sum denied, and `[telemetry]` as given. */
function policyWith(telemetry: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'agentk-otel-')), 'policy.toml');
  const rule = `[[rules]]
id = "deny-sum"
effect = "deny"
reason = "sums are not for this agent"
[rules.when]
syscalls = ["tool.invoke"]
targets = ["everything/get-sum"]

`;
  const base = readFileSync(join(PACKAGE_ROOT, 'examples', 'agentk.policy.toml'), 'utf8');
  const withRule = base.replace('[[rules]]\nid = "deny-private-egress"', `${rule}$&`);
  writeFileSync(path, `${withRule}\n${telemetry}\n`);
  return path;
}

interface Session {
  readonly client: Client;
  /** Close the client, wait for the proxy to exit, and return what it wrote on stderr. */
  close(): Promise<string>;
}

async function session(trace: string, extra: string[], env: Record<string, string>) {
  const capture = connectCapturing(proxied('everything', trace, [EVERYTHING], extra), env);
  const client = await capture.connecting;
  return {
    client,
    async close() {
      await client.close();
      await new Promise((resolve) => setImmediate(resolve));
      return capture.stderr();
    },
  } satisfies Session;
}

/** The calls of both tests: one allowed echo, a credential in a result, one denied call. */
async function calls(client: Client): Promise<void> {
  await client.listTools();
  const echo = await client.callTool({ name: 'echo', arguments: { message: ARGUMENT } });
  expect(JSON.stringify(echo)).toContain(ARGUMENT);
  const env = await client.callTool({ name: 'get-env', arguments: {} });
  expect(JSON.stringify(env)).toMatch(/secret_fd_[0-9a-f]{32}/);
  const denied = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } });
  expect(denied.isError).toBe(true);
}

type Json = Record<string, unknown>;
const syscalls = (trace: string) => traceEvents(trace).filter((event) => event.type === 'syscall');

let receiver: Receiver | null = null;
afterEach(async () => {
  await receiver?.close();
  receiver = null;
});

describe('mcp-proxy-stdio exports its syscalls over OTLP/HTTP', () => {
  // Binary protobuf is the default (as OTLP's); the JSON mapping is the policy's choice.
  it.each([
    { protocol: undefined, encoding: 'protobuf' },
    { protocol: 'http/json', encoding: 'json' },
  ])(
    'sends one span per syscall, the same as the trace, and nothing raw ($encoding)',
    async ({ protocol, encoding }) => {
      receiver = await startReceiver();
      const policy = policyWith(`[telemetry]
endpoint = "${receiver.url}"
${protocol ? `protocol = "${protocol}"` : ''}
service_name = "agentk-test"
headers = { "x-otel-test" = "\${OTEL_TEST_TOKEN}" }`);
      const trace = tempTrace();
      const proxy = await session(trace, ['--allow-env', 'PLANTED_TOKEN', '--policy', policy], {
        PLANTED_TOKEN: PLANTED,
        OTEL_TEST_TOKEN: HEADER_TOKEN,
      });
      await calls(proxy.client);
      const stderr = await proxy.close();
      expect(verifyLogFile(trace).ok).toBe(true);
      const events = syscalls(trace);
      const spans = await receiver.waitForSpans(events.length + 1);
      expect(spans).toHaveLength(events.length + 1);
      expect(new Set(receiver.encodings)).toEqual(new Set([encoding]));
      expect(stderr).toContain(
        `telemetry: ${events.length + 1} span(s) exported, 0 failed to export, 0 dropped`,
      );

      // One session span; every syscall span is its child, in one trace.
      const root = spans.find((span) => span.name === 'agentk session');
      const seal = traceEvents(trace).find((event) => event.type === 'seal')?.seal as Json;
      expect(root?.attributes['agentk.seal.head_hash']).toBe(seal.head_hash);
      for (const span of spans) {
        expect(span.traceId).toBe(root?.traceId);
        if (span !== root) expect(span.parentSpanId).toBe(root?.spanId);
        expect(span.resource['service.name']).toBe('agentk-test');
        expect(span.resource['agentk.mcp.server']).toBe('everything');
      }

      // Each syscall event has its span, with the event's own hash, verdict and rule.
      for (const event of events) {
        const syscall = event.syscall as Json;
        const decision = event.decision as Json;
        const span = spans.find((s) => s.attributes['agentk.event_hash'] === event.event_hash);
        expect(span?.attributes).toMatchObject({
          'agentk.syscall.kind': syscall.kind,
          'agentk.target': syscall.target,
          'agentk.verdict': decision.verdict,
          'agentk.rule': decision.rule,
          'agentk.labels': syscall.labels,
          'agentk.run_id': event.run_id,
          'agentk.step': event.step,
        });
      }
      const named = (name: string) => spans.filter((span) => span.name === name);
      const [echo] = named('execute_tool echo');
      expect(echo?.attributes).toMatchObject({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'echo',
        'mcp.method.name': 'tools/call',
        'agentk.verdict': 'allow',
      });
      expect(echo?.status.code ?? 0).toBe(0);
      const [sum] = named('execute_tool get-sum');
      expect(sum?.attributes).toMatchObject({
        'agentk.verdict': 'deny',
        'agentk.rule': 'deny-sum',
      });
      expect(sum?.status).toMatchObject({ code: 2, message: 'denied by deny-sum' });
      expect(named('agentk tool.response get-env')).toHaveLength(1);

      // The header came from the environment; no argument, result or credential went out.
      expect(receiver.headers.every((h) => h['x-otel-test'] === HEADER_TOKEN)).toBe(true);
      const sent = receiver.bodies.join('\n');
      for (const secret of [PLANTED, HEADER_TOKEN, ARGUMENT]) expect(sent).not.toContain(secret);
      expect(stderr).not.toContain(HEADER_TOKEN);
    },
    60_000,
  );

  it('with the endpoint down, calls go through, the session ends and the loss is counted', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}/v1/traces`;
    const trace = tempTrace();
    const extra = ['--allow-env', 'PLANTED_TOKEN', '--policy', policyWith('')];
    const proxy = await session(trace, [...extra, '--otel-endpoint', endpoint], {
      PLANTED_TOKEN: PLANTED,
    });
    await calls(proxy.client);
    const stderr = await proxy.close();
    expect(verifyLogFile(trace).ok).toBe(true);
    const spans = syscalls(trace).length + 1;
    const counts = /telemetry: 0 span\(s\) exported, (\d+) failed to export, (\d+) dropped/.exec(
      stderr,
    );
    expect(counts).not.toBeNull();
    expect(Number(counts?.[1]) + Number(counts?.[2])).toBe(spans);
  }, 60_000);
});
