// Catalogue pinning: trust on first use, a rug pull caught and refused, approval.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { descriptorHash, PinStore } from '../../src/kernel/catalogue/pins.js';
import { CatalogueTracker } from '../../src/kernel/catalogue/tracker.js';
import { runCli } from '../helpers/cli.js';
import { memoryKernel } from '../helpers/kernel.js';
import { rawSession, traceEvents } from '../helpers/proxy.js';

type Msg = Record<string, unknown>;

describe('catalogue pinning through the proxy', () => {
  it('pins on first use, refuses a tool that changed, and allows it once approved', async () => {
    const pinsDir = mkdtempSync(join(tmpdir(), 'agentk-pins-'));
    const a = await rawSession({ pinsDir });
    await a.initialize();
    await a.request('tools/list');
    expect(existsSync(join(pinsDir, 'fault.json'))).toBe(true);
    const before = await a.request('tools/call', { name: 'echo', arguments: { n: 1 } });
    expect((before.result as { isError?: boolean }).isError).toBeUndefined();

    await a.request('tools/call', { name: 'mutate', arguments: {} });
    await a.waitFor((m) => m.method === 'notifications/tools/list_changed');
    const listed = await a.request('tools/list');
    expect(JSON.stringify(listed)).toContain('changed after it was trusted');
    const after = await a.request('tools/call', { name: 'echo', arguments: { n: 2 } });
    const denial = (after.result as { _meta: { 'agentk/denial': Msg } })._meta['agentk/denial'];
    expect(denial).toMatchObject({ rule: 'kernel.descriptor-unapproved' });
    expect(String(denial.reason)).toMatch(
      /echo is changed since fault's catalogue was pinned; review it, then run agentk pins approve --server-id fault/,
    );
    await a.close();
    const describe = traceEvents(a.trace).filter(
      (e) => e.syscall?.kind === 'tool.describe' && e.syscall.target === 'fault/echo',
    );
    expect(describe.map((e) => e.syscall.detail.pin)).toEqual(['first-use', 'changed']);
    expect(describe[1].syscall.labels).toContain('poisoned-suspect');

    const shown = await runCli(['pins', 'show', '--server-id', 'fault', '--pins-dir', pinsDir]);
    expect(shown.stdout).toContain('~ tools/echo');
    const approved = await runCli([
      'pins',
      'approve',
      '--server-id',
      'fault',
      '--pins-dir',
      pinsDir,
    ]);
    expect(approved.stdout).toMatch(
      /^approved 1 change to fault's catalogue\n {2}~ tools\/echo\n$/,
    );

    const b = await rawSession({ pinsDir, env: { FAULT_MUTATED: '1' } });
    await b.initialize();
    await b.request('tools/list');
    const ok = await b.request('tools/call', { name: 'echo', arguments: { n: 3 } });
    expect((ok.result as { isError?: boolean }).isError).toBeUndefined();
    await b.close();
  });

  it('clears the pending catalogue when it is approved, in the running session too, or reverts', async () => {
    const pinsDir = mkdtempSync(join(tmpdir(), 'agentk-pins-'));
    const pending = join(pinsDir, 'fault.pending.json');
    const a = await rawSession({ pinsDir });
    await a.initialize();
    await a.request('tools/list');
    await a.close();

    const b = await rawSession({ pinsDir, env: { FAULT_MUTATED: '1' } });
    await b.initialize();
    await b.request('tools/list');
    expect(existsSync(pending)).toBe(true);
    const refused = await b.request('tools/call', { name: 'echo', arguments: { n: 1 } });
    expect((refused.result as { isError?: boolean }).isError).toBe(true);
    const approved = await runCli([
      'pins',
      'approve',
      '--server-id',
      'fault',
      '--pins-dir',
      pinsDir,
    ]);
    expect(approved.code).toBe(0);
    // The running session takes the approval: the call goes, and listing again pends nothing.
    const allowed = await b.request('tools/call', { name: 'echo', arguments: { n: 2 } });
    expect((allowed.result as { isError?: boolean }).isError).toBeUndefined();
    await b.request('tools/list');
    expect(existsSync(pending)).toBe(false);
    await b.close();

    // The server shows the old echo again: a change from what was approved, pending...
    const c = await rawSession({ pinsDir });
    await c.initialize();
    await c.request('tools/list');
    expect(existsSync(pending)).toBe(true);
    // ...until it shows the approved one again.
    await c.request('tools/call', { name: 'mutate', arguments: {} });
    await c.waitFor((m) => m.method === 'notifications/tools/list_changed');
    await c.request('tools/list');
    expect(existsSync(pending)).toBe(false);
    const ok = await c.request('tools/call', { name: 'echo', arguments: { n: 3 } });
    expect((ok.result as { isError?: boolean }).isError).toBeUndefined();
    await c.close();
    const states = traceEvents(c.trace)
      .filter((e) => e.syscall?.kind === 'tool.describe' && e.syscall.target === 'fault/echo')
      .map((e) => e.syscall.detail.pin);
    expect(states).toEqual(['changed', 'pinned']);
  });

  it('marks a descriptor that tells the model to call another tool as poisoned-suspect', async () => {
    const s = await rawSession({ env: { FAULT_SHADOW: '1' } });
    await s.initialize();
    await s.request('tools/list');
    await s.close();
    const shadow = traceEvents(s.trace).find((e) => e.syscall?.target === 'fault/shadow');
    expect(shadow.syscall.intent).toMatch(/^its description names /);
    expect(shadow.syscall.labels).toContain('poisoned-suspect');
    const echo = traceEvents(s.trace).find((e) => e.syscall?.target === 'fault/echo');
    expect(echo.syscall.labels).not.toContain('poisoned-suspect');
  });

  it('lists pinned catalogues, and refuses to approve what is not pending', async () => {
    const pinsDir = mkdtempSync(join(tmpdir(), 'agentk-pins-'));
    expect((await runCli(['pins', 'list', '--pins-dir', pinsDir])).stdout).toMatch(
      /^no pinned catalogues/,
    );
    const none = await runCli(['pins', 'approve', '--server-id', 'x', '--pins-dir', pinsDir]);
    expect([none.code, none.stderr]).toEqual([
      2,
      'agentk pins: no pending catalogue for x: nothing to approve\n',
    ]);
  });
});

describe('agentk pins list over a damaged pins directory', () => {
  it('lists the good files, names the bad one and what is wrong, and exits 1', async () => {
    const pinsDir = mkdtempSync(join(tmpdir(), 'agentk-pins-'));
    const store = new PinStore(pinsDir);
    const tracker = new CatalogueTracker(store, 'good', '2026-12-01T00:00:00.000Z');
    tracker.check('tools', 'a', { name: 'a' });
    tracker.endListing('tools');
    writeFileSync(join(pinsDir, 'bad.json'), '{}');
    const listed = await runCli(['pins', 'list', '--pins-dir', pinsDir]);
    expect(listed.code).toBe(1);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^ {2}bad +unusable: pin file .*bad\.json is malformed; remove it to pin afresh/,
    );
    expect(lines[1]).toMatch(/^ {2}good +1 tools, 0 resources, 0 templates, 0 prompts/);
    const asJson = JSON.parse(
      (await runCli(['pins', 'list', '--pins-dir', pinsDir, '--json'])).stdout,
    );
    expect(asJson.servers.map((row: { server_id: string }) => row.server_id)).toEqual([
      'bad',
      'good',
    ]);
    expect(asJson.servers[0].error).toMatch(/is malformed/);
  });
});

describe('CatalogueTracker', () => {
  it('tells new, renamed and changed descriptors apart', () => {
    const store = new PinStore(mkdtempSync(join(tmpdir(), 'agentk-pins-')));
    const first = new CatalogueTracker(store, 's', 'now');
    expect(first.check('tools', 'a', { name: 'a', description: 'x' })).toBe('first-use');
    first.endListing('tools');
    expect(first.check('tools', 'n', { name: 'n' })).toBe('new');
    const later = new CatalogueTracker(store, 's', 'later');
    expect(later.check('tools', 'a', { name: 'a', description: 'x' })).toBe('pinned');
    expect(later.check('tools', 'b', { name: 'a', description: 'x' })).toBe('renamed');
    expect(later.check('tools', 'c', { name: 'c' })).toBe('new');
    expect(later.check('tools', 'a', { name: 'a', description: 'y' })).toBe('changed');
    expect(later.suspect('tools', 'c')).toBe('new');
    expect(later.suspect('tools', 'zzz')).toBeUndefined();
    // Resources were never listed for this server: their first listing is trusted as it is.
    expect(later.check('resources', 'r://1', { uri: 'r://1' })).toBe('first-use');
  });
});

describe('CatalogueTracker and client capabilities', () => {
  const listing = (tracker: CatalogueTracker, tools: Record<string, string>) => {
    tracker.beginListing('tools');
    const states = Object.entries(tools).map(
      ([name, text]) => `${name} ${tracker.check('tools', name, { name, description: text })}`,
    );
    tracker.endListing('tools');
    return states;
  };

  it('adds what a client with a new capability is shown beside the pins unchanged, else flags it', () => {
    const store = new PinStore(mkdtempSync(join(tmpdir(), 'agentk-pins-')));
    const plain = new CatalogueTracker(store, 's', 't1');
    plain.declare([]);
    expect(listing(plain, { a: 'x', b: 'y' })).toEqual(['a first-use', 'b first-use']);
    // A pinned tool changed in the window's listing: its additions await review too.
    const changed = new CatalogueTracker(store, 's', 't2');
    changed.declare(['elicitation']);
    expect(listing(changed, { a: 'x', b: 'changed', c: 'z' })).toEqual([
      'a pinned',
      'b changed',
      'c new',
    ]);
    expect(changed.suspect('tools', 'b')).toBe('changed');
    expect(changed.suspect('tools', 'c')).toBe('new');
    const rich = new CatalogueTracker(store, 's', 't3');
    rich.declare(['sampling']);
    expect(listing(rich, { a: 'x', b: 'y', c: 'z' })).toEqual([
      'a pinned',
      'b pinned',
      'c first-use',
    ]);
    expect(rich.suspect('tools', 'c')).toBeUndefined();
    // The window was that listing: in the same run, a later addition is new.
    expect(listing(rich, { a: 'x', d: 'w' })).toEqual(['a pinned', 'd new']);
    expect(store.load('s')?.client_capabilities.tools).toEqual(['elicitation', 'sampling']);
    // The same capabilities, or fewer, add nothing without review.
    for (const declared of [['sampling'], []]) {
      const again = new CatalogueTracker(store, 's', 't4');
      again.declare(declared);
      expect(listing(again, { c: 'z', e: 'v' })).toEqual(['c pinned', 'e new']);
    }
  });

  it('loads a version 1 pin file, moves a template filed among resources, writes version 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-pins-'));
    const store = new PinStore(dir);
    const template = { uriTemplate: 'r://{x}', name: 't' };
    const resource = { uri: 'r://1', name: 'r' };
    const hashes = { tools: {}, prompts: {} };
    writeFileSync(
      join(dir, 's.json'),
      JSON.stringify({
        version: 1,
        server_id: 's',
        pinned_at: 'then',
        ...hashes,
        resources: { 'r://1': descriptorHash(resource), 'r://{x}': descriptorHash(template) },
      }),
    );
    expect(store.load('s')).toMatchObject({ version: 2, templates: {}, client_capabilities: {} });
    const tracker = new CatalogueTracker(store, 's', 'now');
    tracker.declare(['roots']);
    expect(tracker.check('templates', 'r://{x}', template)).toBe('first-use');
    tracker.endListing('templates');
    expect(tracker.check('resources', 'r://1', resource)).toBe('pinned');
    const written = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
    expect(written).toMatchObject({
      version: 2,
      pinned_at: 'then',
      resources: { 'r://1': descriptorHash(resource) },
      templates: { 'r://{x}': descriptorHash(template) },
      // Tools and prompts were never pinned: their first listing will say under what.
      client_capabilities: { resources: ['roots'], templates: ['roots'] },
    });
    expect(Object.keys(written.resources)).toEqual(['r://1']);
    expect(Object.keys(written.client_capabilities).sort()).toEqual(['resources', 'templates']);
    expect(existsSync(join(dir, 's.pending.json'))).toBe(false);
  });
});

describe('pins that cannot be saved', () => {
  it('fail with PINS_IO naming the file, and the log is sealed all the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-pins-'));
    const pinsDir = join(dir, 'pins');
    const { kernel, sink } = memoryKernel({ pins: new PinStore(pinsDir) });
    // Described outside a listing (library use): saved when the kernel closes.
    kernel.syscall({ kind: 'tool.describe', target: 's/a', descriptor: { name: 'a' } });
    writeFileSync(pinsDir, 'not a directory'); // the directory cannot be made
    expect(() => kernel.close()).toThrow(/could not write pin file .*pins.*s\.json/);
    expect(kernel.seal).not.toBeNull();
    expect(JSON.parse(sink.lines.at(-1) as string).type).toBe('seal');
  });
});

describe('a listing whose pins cannot be written', () => {
  it('still closes the first-use window: a changed descriptor is judged against it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-pins-'));
    const pinsDir = join(dir, 'pins');
    writeFileSync(pinsDir, 'not a directory');
    const tracker = new CatalogueTracker(new PinStore(pinsDir), 's', 'now');
    expect(tracker.check('tools', 'a', { name: 'a', description: 'x' })).toBe('first-use');
    expect(() => tracker.endListing('tools')).toThrow(/could not write pin file/);
    expect(tracker.check('tools', 'a', { name: 'a', description: 'changed' })).toBe('changed');
  });
});
