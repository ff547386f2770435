// Catalogue pinning against real servers from npm, through the proxy binary: what a real
// server shows in the ordinary course (a resource and a template with the same URI, tools
// that exist only for clients that declare a capability) raises no alarm, while a real
// change still does.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { connect, EVERYTHING, proxied, tempTrace } from '../helpers/real.js';

const GIT = join(PACKAGE_ROOT, 'node_modules', '@cyanheads', 'git-mcp-server', 'dist', 'index.js');

type Event = { syscall: { kind: string; target: string; detail?: { pin?: string } } };

/** `target -> pin state` of every describe in a trace, in order (`kind target pin`). */
function pinStates(trace: string): string[] {
  return readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Event)
    .filter((event) => event.syscall?.kind.endsWith('.describe'))
    .map((event) => `${event.syscall.target} ${event.syscall.detail?.pin}`);
}

describe('@cyanheads/git-mcp-server: a resource and a template with the same URI', () => {
  it('are pinned apart on the first session, and the resource can be read', async () => {
    const pinsDir = mkdtempSync(join(tmpdir(), 'agentk-pins-'));
    for (const session of [1, 2]) {
      const trace = tempTrace();
      const client = await connect(...proxied('git', trace, [GIT], ['--pins-dir', pinsDir]));
      const listed = await client.listResources();
      const templates = await client.listResourceTemplates();
      expect(listed.resources.map((r) => r.uri)).toContain('git://working-directory');
      expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toContain(
        'git://working-directory',
      );
      const read = await client.readResource({ uri: 'git://working-directory' });
      expect(JSON.stringify(read.contents)).toContain('workingDirectory');
      await client.close();
      const state = session === 1 ? 'first-use' : 'pinned';
      expect(pinStates(trace)).toEqual([
        `git/git://working-directory ${state}`,
        `git/git://working-directory ${state}`,
      ]);
      expect(existsSync(join(pinsDir, 'git.pending.json'))).toBe(false);
    }
  });
});

describe('@modelcontextprotocol/server-everything: templates and client capabilities', () => {
  it('pins templates on first use, and the tools a richer client is offered without alarm', async () => {
    const pinsDir = mkdtempSync(join(tmpdir(), 'agentk-pins-'));
    const session = async (capabilities: Record<string, unknown>) => {
      const trace = tempTrace();
      const client = await connect(
        ...proxied('everything', trace, [EVERYTHING], ['--pins-dir', pinsDir]),
        {},
        capabilities,
      );
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      await client.listResources();
      await client.listResourceTemplates();
      const sum = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
      await client.close();
      return { tools, trace, sum };
    };
    // A plain client first: its catalogue, templates included, is pinned; nothing pending.
    const plain = await session({});
    expect(plain.tools).not.toContain('trigger-sampling-request');
    expect(existsSync(join(pinsDir, 'everything.pending.json'))).toBe(false);
    // A client that declares sampling, elicitation and roots is offered three more tools.
    const rich = { sampling: {}, elicitation: {}, roots: { listChanged: true } };
    const first = await session(rich);
    const gated = ['get-roots-list', 'trigger-elicitation-request', 'trigger-sampling-request'];
    expect(first.tools).toEqual(expect.arrayContaining(gated));
    expect(first.sum.isError).toBeFalsy();
    const states = pinStates(first.trace);
    for (const tool of gated) expect(states).toContain(`everything/${tool} first-use`);
    expect(states.filter((line) => !line.endsWith(' first-use'))).toEqual(
      states.filter((line) => line.endsWith(' pinned')),
    );
    expect(existsSync(join(pinsDir, 'everything.pending.json'))).toBe(false);
    // Either client again: everything is pinned.
    for (const capabilities of [rich, {}]) {
      const again = await session(capabilities);
      expect(pinStates(again.trace).every((line) => line.endsWith(' pinned'))).toBe(true);
    }
    expect(existsSync(join(pinsDir, 'everything.pending.json'))).toBe(false);
  });
});
