// The MCP commands end to end: the real bin, real child processes, the official client.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { verifyLogFile } from '../../src/recorder/verify.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');
const example = (name: string) => join(PACKAGE_ROOT, 'examples', name);

function agentk(args: string[], input?: string, cwd?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: cwd ?? mkdtempSync(join(tmpdir(), 'agentk-mcp-')),
    input,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      AGENTK_HOME: process.env.AGENTK_HOME ?? '',
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('agentk mcp-proxy, mcp-stdio and mcp-lines', () => {
  it('mediate the example requests without executing them', () => {
    const one = agentk(['mcp-proxy', '--request', example('mcp-tool-request.json')]);
    expect(one.code).toBe(0);
    expect(lines(one.stdout)[0]).toMatchObject({
      verdict: 'deny',
      rule: 'deny-private-egress',
      executed: false,
    });
    const stdin = agentk(['mcp-stdio'], readFileSync(example('mcp-tool-request.json'), 'utf8'));
    expect(lines(stdin.stdout)[0]).toMatchObject({ verdict: 'deny', executed: false });
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-mcp-'));
    const many = agentk(
      ['mcp-lines', '--trace-out', 'lines.jsonl'],
      readFileSync(example('mcp-tool-requests.jsonl'), 'utf8'),
      cwd,
    );
    expect(many.code).toBe(0);
    expect(lines(many.stdout).map((o) => `${o.id}:${o.verdict}`)).toEqual([
      '1:allow',
      '2:allow',
      '3:deny',
      '4:deny',
      '5:allow',
      '6:allow',
    ]);
    const chain = verifyLogFile(join(cwd, 'lines.jsonl'));
    expect(chain.ok && chain.events).toBe(6);
  });

  it('report a malformed request and exit 1', () => {
    const result = agentk(
      ['mcp-stdio'],
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}',
    );
    expect(result.code).toBe(1);
    expect(lines(result.stdout)[0]).toMatchObject({ verdict: 'invalid', error: { code: -32602 } });
  });

  it('refuse stdin beyond the bound', () => {
    const result = agentk(['mcp-stdio'], 'x'.repeat(1024 * 1024 + 1));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/stdin exceeds 1048576 bytes/);
  });
});

describe('agentk mcp-server', () => {
  it('answers the example session, with the lifecycle enforced', () => {
    const result = agentk(
      ['mcp-server'],
      readFileSync(example('mcp-server-session.jsonl'), 'utf8'),
    );
    expect(result.code).toBe(0);
    const answers = lines(result.stdout);
    expect(answers.map((a) => a.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(answers[0]?.result).toMatchObject({ protocolVersion: '2025-06-18' });
    const verdicts = answers
      .slice(2, 6)
      .map(
        (a) => (a.result as { structuredContent: { verdict: string } }).structuredContent.verdict,
      );
    expect(verdicts).toEqual(['allow', 'allow', 'deny', 'allow']);
  });

  it('serves the official SDK client', async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'agentk-mcp-')), 'server.jsonl');
    const client = new Client({ name: 'sdk', version: '1' }, { capabilities: {} });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp-server', '--trace-out', trace],
        stderr: 'ignore',
      }),
    );
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual([
      'agentk.mediate',
      'agentk.mediate_descriptor',
      'agentk.record_response',
    ]);
    const decision = await client.callTool({
      name: 'agentk.mediate',
      arguments: {
        server: 'shell',
        name: 'exec',
        arguments: { command: 'ls' },
        labels: ['untrusted'],
      },
    });
    expect(decision.structuredContent).toMatchObject({
      verdict: 'deny',
      rule: 'deny-untrusted-exec',
    });
    await client.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(verifyLogFile(trace).ok).toBe(true);
  });

  it('rejects batches, bad ids and early requests with standard errors, and goes on', () => {
    const session = [
      '[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
      '{"jsonrpc":"2.0","id":2,"method":"tools/list"}',
      `{"jsonrpc":"2.0","id":"${'x'.repeat(300)}","method":"ping"}`,
      'not json',
      '{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2099-01-01","capabilities":{}}}',
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      '{"jsonrpc":"2.0","id":4,"method":"resources/list"}',
      '{"jsonrpc":"2.0","id":5,"method":"ping"}',
    ].join('\n');
    const answers = lines(agentk(['mcp-server'], session).stdout);
    const code = (a: Record<string, unknown>) => (a.error as { code: number } | undefined)?.code;
    expect(answers.map(code)).toEqual([
      -32600,
      -32002,
      -32600,
      -32700,
      undefined,
      -32601,
      undefined,
    ]);
    expect(answers[4]?.result).toMatchObject({ protocolVersion: '2025-11-25' });
  });
});

describe('agentk mcp-proxy-stdio configuration', () => {
  const cases: [string[], RegExp][] = [
    [['--', 'node', 'x'], /--server-id ID is required/],
    [['--server-id', 'bad id', '--', 'node'], /--server-id must be/],
    [['--server-id', 's'], /no server to start/],
    [
      ['--server-id', 's', '--allow-env', 'TOKEN=ghp_secretvalue', '--', 'node'],
      /--allow-env #1 is not an environment variable name/,
    ],
    [
      ['--server-id', 's', '--response-timeout-ms', '0', '--', 'node'],
      /--response-timeout-ms must be a whole number from 1/,
    ],
    [
      ['--server-id', 's', '--max-message-bytes', '12', '--', 'node'],
      /--max-message-bytes must be a whole number from 1024/,
    ],
    [
      ['--server-id', 's', '--command', 'node', '--', 'node'],
      /either with --command\/--arg or after --, not both/,
    ],
  ];
  for (const [args, expected] of cases) {
    it(`refuses ${args.join(' ')} before starting anything, without echoing secrets`, () => {
      const result = agentk(['mcp-proxy-stdio', ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(expected);
      expect(result.stderr).not.toContain('ghp_secretvalue');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('accepts --arg values that start with a hyphen', () => {
    const session = readFileSync(example('mcp-proxy-poisoned-error-session.jsonl'), 'utf8');
    const result = agentk(
      [
        'mcp-proxy-stdio',
        '--server-id',
        'e',
        '--trace-out',
        't.jsonl',
        '--command',
        process.execPath,
        '--arg',
        '--no-warnings',
        '--arg',
        example('mcp-poisoned-error-server.mjs'),
      ],
      session,
    );
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toHaveLength(2);
  });

  it('names a server that cannot start', () => {
    const result = agentk([
      'mcp-proxy-stdio',
      '--server-id',
      's',
      '--trace-out',
      't.jsonl',
      '--',
      '/no/such/server',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot start \/no\/such\/server: command not found \(ENOENT\)/);
  });
});

describe('the seed transcripts', () => {
  it('the poisoned-error transcript reaches the client only as a sanitized summary', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-mcp-'));
    const result = agentk(
      [
        'mcp-proxy-stdio',
        '--server-id',
        'poisoned-error-demo',
        '--trace-out',
        'error.jsonl',
        '--command',
        process.execPath,
        '--arg',
        example('mcp-poisoned-error-server.mjs'),
      ],
      readFileSync(example('mcp-proxy-poisoned-error-session.jsonl'), 'utf8'),
      cwd,
    );
    expect(result.code).toBe(0);
    const answer = lines(result.stdout).find((a) => a.id === 2) as {
      error: { code: number; message: string };
    };
    expect(answer.error.code).toBe(-32006);
    expect(answer.error.message).toMatch(/withheld by AgentK/);
    expect(result.stdout).not.toMatch(/ignore previous|id_rsa/);
    const trace = readFileSync(join(cwd, 'error.jsonl'), 'utf8');
    expect(trace).not.toMatch(/ignore previous|id_rsa/);
    expect(verifyLogFile(join(cwd, 'error.jsonl')).ok).toBe(true);
  });

  it('the client transcript, serialized, blocks both follow-up calls', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-mcp-'));
    const result = agentk(
      [
        'mcp-proxy-stdio',
        '--serialize',
        '--server-id',
        'poisoned-demo',
        '--trace-out',
        'demo.jsonl',
        '--command',
        process.execPath,
        '--arg',
        example('mcp-poisoned-server.mjs'),
      ],
      readFileSync(example('mcp-proxy-client-session.jsonl'), 'utf8'),
      cwd,
    );
    const answers = lines(result.stdout);
    const denied = answers
      .filter((a) => (a.result as { isError?: boolean } | undefined)?.isError)
      .map((a) => a.id);
    expect(denied).toEqual([5, 6]);
    // A person watching stderr sees where the session goes, and each denial in one line:
    // the tool, the rule, which argument came from which page, and why.
    const said = result.stderr.trim().split('\n');
    expect(said[0]).toMatch(
      /^agentk poisoned-demo: mediating \S+ under \S+agentk\.policy\.toml; trace \S+demo\.jsonl$/,
    );
    expect(said.filter((line) => line.includes(': denied '))).toEqual([
      expect.stringMatching(
        /^agentk poisoned-demo: denied tool\.invoke poisoned-demo\/http_post by deny-private-egress at step \d+ \(url from step \d+ poisoned-demo\/fetch_url; body from step \d+ poisoned-demo\/read_inbox\): private or secret data may not leave/,
      ),
      expect.stringMatching(
        /^agentk poisoned-demo: denied tool\.invoke poisoned-demo\/apply_patch by deny-poisoned-side-effect/,
      ),
    ]);
    expect(said.at(-2)).toMatch(
      /^agentk poisoned-demo: the client closed the session; .*, 2 denied or asked\);/,
    );
    expect(said.at(-1)).toMatch(
      /^agentk poisoned-demo: agentk why \S+ explains each refusal and its rule$/,
    );
  });

  it('says nothing on stderr but the closing summary with --quiet', () => {
    const result = agentk(
      [
        'mcp-proxy-stdio',
        '--quiet',
        '--serialize',
        '--server-id',
        'poisoned-demo',
        '--command',
        process.execPath,
        '--arg',
        example('mcp-poisoned-server.mjs'),
      ],
      readFileSync(example('mcp-proxy-client-session.jsonl'), 'utf8'),
    );
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^agentk poisoned-demo: the client closed the session/),
    ]);
  });
});

describe('agentk mcp-killer-demo and mcp-shim-eval', () => {
  it('the killer demo blocks both dangerous calls before the server sees them', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-mcp-'));
    const result = agentk(['mcp-killer-demo', '--json'], undefined, cwd);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      downstream_calls: string[];
      blocked: string[];
      trace: string;
    };
    expect(report.downstream_calls).toEqual(['fetch_url', 'read_inbox']);
    expect(report.blocked).toEqual(['http_post', 'apply_patch']);
    expect(report.trace).toBe('.agentk/runs/mcp-killer-demo.jsonl');
    const human = agentk(['mcp-killer-demo'], undefined, cwd);
    expect(human.stdout).toMatch(
      /Inspect it: npx agentk trace-inspect \.agentk\/runs\/mcp-killer-demo\.jsonl\n$/,
    );
    expect(readFileSync(join(cwd, report.trace), 'utf8')).not.toMatch(
      /IMPORTANT new instructions|PRIVATE-MARKER/,
    );
  });

  it('the shim eval passes every row for AgentK and shows the baseline failing', () => {
    const result = agentk(['mcp-shim-eval', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      rows: { check: string; baseline: string; pass: boolean }[];
    };
    expect(report.ok).toBe(true);
    expect(report.rows).toHaveLength(5);
    expect(report.rows.slice(0, 3).map((row) => row.baseline)).toEqual([
      'executed',
      'executed',
      'leaked',
    ]);
  });
});
