// What a syscall event becomes as a span, where the spans go, and that the OpenTelemetry
// packages load only when telemetry is on.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentkError } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { parsePolicyText } from '../../src/policy/load.js';
import type { SyscallEvent } from '../../src/recorder/event.js';
import { DEFAULT_TRACES_ENDPOINT, telemetryConfig } from '../../src/telemetry/config.js';
import { spanOf } from '../../src/telemetry/spans.js';

function event(kind: string, target: string, verdict: 'allow' | 'deny', rule: string) {
  return {
    v: 2,
    type: 'syscall',
    step: 7,
    ts: '2026-12-07T15:00:00.123Z',
    run_id: 'run-1',
    agent_id: 'agent-1',
    previous_hash: 'a'.repeat(64),
    event_hash: 'b'.repeat(64),
    syscall: {
      kind,
      target,
      intent: 'an intent that stays in the log',
      labels: ['untrusted'],
      control_labels: [],
      inputs: [{ ref: 'arg:query', sha256: 'c'.repeat(64) }],
      capability: `${kind}:${target}`,
      sinks: ['read'],
      detail: { secret: 'never exported' },
    },
    decision: {
      verdict,
      effect: verdict,
      rule,
      reason: 'a reason that stays in the log',
      missing_capability: null,
      receipt: null,
      secret_handle: null,
      request_hash: 'd'.repeat(64),
    },
  } as unknown as SyscallEvent;
}

describe('spanOf', () => {
  it('names a tool call as the GenAI conventions do and carries the decision', () => {
    const span = spanOf(event('tool.invoke', 'git/git_log', 'allow', 'allow-capable-action'));
    expect(span.name).toBe('execute_tool git_log');
    expect(span.time).toBe(Date.parse('2026-12-07T15:00:00.123Z'));
    expect(span.denied).toBeNull();
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'git_log',
      'mcp.method.name': 'tools/call',
      'agentk.syscall.kind': 'tool.invoke',
      'agentk.target': 'git/git_log',
      'agentk.verdict': 'allow',
      'agentk.rule': 'allow-capable-action',
      'agentk.labels': ['untrusted'],
      'agentk.event_hash': 'b'.repeat(64),
      'agentk.run_id': 'run-1',
      'agentk.step': 7,
    });
  });

  it('marks a denial as an error named by its rule', () => {
    const span = spanOf(event('prompt.get', 'srv/greeting', 'deny', 'deny-x'));
    expect(span.name).toBe('agentk prompt.get greeting');
    expect(span.denied).toEqual({ message: 'denied by deny-x' });
    expect(span.attributes).toMatchObject({
      'gen_ai.prompt.name': 'greeting',
      'mcp.method.name': 'prompts/get',
      'error.type': 'agentk.denied',
    });
  });

  it('names other syscalls by kind alone (no path or URL in a span name)', () => {
    const span = spanOf(event('network.send', 'https://example.com/x?q=1', 'allow', 'r'));
    expect(span.name).toBe('agentk network.send');
    expect(span.attributes['mcp.method.name']).toBeUndefined();
    expect(span.attributes['gen_ai.operation.name']).toBeUndefined();
  });

  it('never exports the intent, the reason, inputs or detail', () => {
    const text = JSON.stringify(spanOf(event('tool.invoke', 's/t', 'deny', 'r')));
    for (const kept of ['an intent', 'a reason', 'never exported', 'arg:query', 'c'.repeat(64)]) {
      expect(text).not.toContain(kept);
    }
  });
});

describe('telemetryConfig', () => {
  const env = {};
  it('is off unless asked for', () => {
    expect(telemetryConfig({ flag: false, env })).toBeNull();
  });

  it('goes to the flag, the policy, the OTLP variables or localhost, in that order', () => {
    const endpoint = (choice: Partial<Parameters<typeof telemetryConfig>[0]>) =>
      telemetryConfig({ flag: true, env, ...choice })?.endpoint;
    expect(endpoint({})).toBe(DEFAULT_TRACES_ENDPOINT);
    expect(endpoint({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' } })).toBe(
      'http://c:4318/v1/traces',
    );
    const policy = { enabled: false, endpoint: 'http://p/v1/traces', headers: {} };
    expect(endpoint({ policy, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' } })).toBe(
      'http://p/v1/traces',
    );
    expect(endpoint({ policy, endpoint: 'http://f/v1/traces' })).toBe('http://f/v1/traces');
    expect(() => endpoint({ endpoint: 'file:///etc/passwd' })).toThrow(AgentkError);
  });

  it('sends protobuf unless the policy or the OTLP variables say JSON; grpc is refused', () => {
    const protocol = (choice: Partial<Parameters<typeof telemetryConfig>[0]>) =>
      telemetryConfig({ flag: true, env, ...choice })?.protocol;
    expect(protocol({})).toBe('http/protobuf');
    expect(protocol({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } })).toBe('http/json');
    const json = { enabled: true, protocol: 'http/json' as const, headers: {} };
    expect(
      protocol({ policy: json, env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' } }),
    ).toBe('http/json');
    expect(() => protocol({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } })).toThrow(
      /protocol "grpc" is not supported: expected http\/protobuf or http\/json/,
    );
  });

  it('takes header values from the environment; an unset variable is an error', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy's ${VAR}, not a template
    const policy = { enabled: true, headers: { 'x-key': 'Bearer ${KEY}' } };
    const config = telemetryConfig({
      flag: false,
      policy,
      env: { KEY: 'k1', OTEL_EXPORTER_OTLP_HEADERS: 'a=b%20c,bad' },
    });
    expect(config?.headers).toEqual({ 'x-key': 'Bearer k1', a: 'b c' });
    expect(() => telemetryConfig({ flag: false, policy, env: {} })).toThrow(/\$\{KEY\}/);
  });
});

describe('[telemetry] in a policy', () => {
  const policy = (table: string) =>
    parsePolicyText(
      `[agent]\nid = "t"\n${table}\n[[rules]]\nid = "d"\neffect = "deny"\nreason = "r"\n`,
      'p.toml',
    );

  it('is read with its defaults, and absent without the table', () => {
    expect(policy('').telemetry).toBeUndefined();
    expect(policy('[telemetry]\nendpoint = "http://localhost:4318/v1/traces"').telemetry).toEqual({
      enabled: true,
      endpoint: 'http://localhost:4318/v1/traces',
      headers: {},
    });
    const off = policy('[telemetry]\nenabled = false\nservice_name = "a"\nheaders = { k = "v" }');
    expect(off.telemetry).toEqual({ enabled: false, serviceName: 'a', headers: { k: 'v' } });
  });

  it('refuses unknown keys and endpoints that are not http(s)', () => {
    const problems = (table: string) => {
      try {
        policy(table);
        return '';
      } catch (error) {
        return (error as AgentkError).problems.join('\n');
      }
    };
    expect(problems('[telemetry]\nsampling = 0.5')).toMatch(/telemetry\.sampling: unknown key/);
    expect(problems('[telemetry]\nendpoint = "ftp://x"')).toMatch(/expected an http\(s\) URL/);
    expect(problems('[telemetry]\nprotocol = "grpc"')).toMatch(
      /telemetry\.protocol: expected "http\/protobuf" or "http\/json"/,
    );
    expect(policy('[telemetry]\nprotocol = "http/json"').telemetry?.protocol).toBe('http/json');
  });
});

describe('the OpenTelemetry packages', () => {
  it('are imported only by src/telemetry/otel.ts, and only dynamically', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
      );
    const src = join(PACKAGE_ROOT, 'src');
    const users = files(src).filter((file) =>
      readFileSync(file, 'utf8').includes("'@opentelemetry/"),
    );
    expect(users.map((file) => relative(src, file))).toEqual(['telemetry/otel.ts']);
    const text = readFileSync(join(src, 'telemetry', 'otel.ts'), 'utf8');
    expect(text).not.toMatch(/^import [^;]*'@opentelemetry\//m);
    expect(text).not.toMatch(/^export [^;]*'@opentelemetry\//m);
  });
});
