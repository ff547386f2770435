import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

describe('examples/agent-loop.mjs', () => {
  it('runs every action through the kernel: the injected command never runs', () => {
    const result = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'examples', 'agent-loop.mjs')], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    const line = (tool: string, kind: string) =>
      lines.find(
        (l) => / (?:allow|deny|ask) /.test(l) && l.includes(` ${kind} `) && l.includes(tool),
      ) ?? '';
    expect(line('web/fetch', 'tool.invoke')).toMatch(/ allow /);
    expect(line('shell/run_command', 'tool.invoke')).toMatch(/ deny .* deny-untrusted-exec$/);
    // Denied: no tool.response for the command, because the tool never ran.
    expect(line('shell/run_command', 'tool.response')).toBe('');
    // The page read as an injection: the write asked the user, who approved it.
    expect(result.stdout).toContain(
      'asked the user: file.patch notes.md (ask-compromised-session)',
    );
    expect(line('notes.md', 'file.patch')).toMatch(/ allow /);
    expect(result.stdout).toMatch(/flight log: .*trace\.jsonl \(9 events, sealed, verified\)/);
  });
});

describe('examples/ai-sdk-agent.mjs', () => {
  it('runs the AI SDK with mediated tools: the steered send is refused, the log sealed', () => {
    const script = join(PACKAGE_ROOT, 'examples', 'ai-sdk-agent.mjs');
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^fetch_page\(.*\) -> "Spring offers/);
    expect(lines[1]).toMatch(/^send_email\(.*\) -> REFUSED by deny-poisoned-side-effect: /);
    expect(lines[2]).toMatch(/^trace .*trace\.jsonl: 6 events, sealed$/);
  });
});

describe('examples/openai-agents.mjs', () => {
  it('runs OpenAI Agents JS with mediated tools: the steered command is refused', () => {
    const script = join(PACKAGE_ROOT, 'examples', 'openai-agents.mjs');
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^fetch_page -> "Setup guide/);
    expect(lines[1]).toMatch(/^run_command -> REFUSED by deny-untrusted-exec: /);
    expect(lines[2]).toMatch(/^trace .*trace\.jsonl: 6 events, sealed$/);
  });
});

describe('examples/mcp-client-in-process.mjs', () => {
  it('runs the SDK Client through AgentK in process: the exfiltrating post is refused', () => {
    const script = join(PACKAGE_ROOT, 'examples', 'mcp-client-in-process.mjs');
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^fetch_url -> "Setup guide/);
    expect(lines[2]).toMatch(/^http_post -> REFUSED: "AgentK denied tool\.invoke demo\/http_post/);
    expect(lines[3]).toMatch(/^trace .*trace\.jsonl: \d+ events, sealed$/);
  });
});
