// The bubblewrap command line a profile becomes, the decision before a server starts, and
// the reading of a sandboxed server's death. No process is started here.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type SandboxPlan, sandboxedCommand } from '../../src/sandbox/argv.js';
import type { HostSupport } from '../../src/sandbox/host.js';
import { limitHit } from '../../src/sandbox/limits.js';
import { planSandbox } from '../../src/sandbox/plan.js';
import { DEFAULT_LIMITS, DEFAULT_PROFILE } from '../../src/sandbox/profile.js';
import { RELAY_PORT, RELAY_SOURCE, SANDBOX_PROXY_SOCKET } from '../../src/sandbox/relay.js';

function places() {
  const root = mkdtempSync(join(tmpdir(), 'agentk-argv-'));
  const workspace = join(root, 'ws');
  const home = join(root, 'home');
  mkdirSync(join(workspace, '.agentk'), { recursive: true });
  mkdirSync(home);
  const key = join(workspace, 'signing.key');
  writeFileSync(key, 'k');
  return { root, workspace, home, key, state: join(workspace, '.agentk') };
}

function plan(p: ReturnType<typeof places>, overrides: Partial<SandboxPlan> = {}): SandboxPlan {
  return {
    profile: DEFAULT_PROFILE,
    bwrap: '/usr/bin/bwrap',
    prlimit: '/usr/bin/prlimit',
    workspace: p.workspace,
    home: p.home,
    path: '/usr/bin:/bin',
    hidden: [p.key, p.state, join(p.root, 'elsewhere.key')],
    runtime: process.execPath,
    ...overrides,
  };
}

/** The argv as one string per option with its operands, for matching. */
const text = (args: readonly string[]) => ` ${args.join(' ')} `;

describe('sandboxedCommand', () => {
  it('unshares everything, dies with the proxy, hides home, binds the workspace and covers what is hidden', () => {
    const p = places();
    const { command, args } = sandboxedCommand(plan(p), 'node', ['server.js']);
    expect(command).toBe('/usr/bin/bwrap');
    const line = text(args);
    for (const part of [
      ' --unshare-all --die-with-parent --new-session --cap-drop ALL ',
      ' --proc /proc --dev /dev --tmpfs /tmp ',
      ` --tmpfs ${p.home} `,
      ` --bind ${p.workspace} ${p.workspace} `,
      ` --ro-bind /dev/null ${p.key} `,
      ` --tmpfs ${p.state} --remount-ro ${p.state} `,
      ` --chdir ${p.workspace} -- /usr/bin/prlimit `,
      ` --cpu=${DEFAULT_LIMITS.cpuSeconds}:${DEFAULT_LIMITS.cpuSeconds + 1} -- node server.js `,
    ]) {
      expect(line).toContain(part);
    }
    // A hidden path no bound directory shows needs no cover.
    expect(line).not.toContain('elsewhere.key');
    // Nothing of / is bound whole.
    expect(line).not.toMatch(/ --(ro-)?bind \/ \/ /);
  });

  it('binds a read-only workspace read-only, and no workspace at all for "none"', () => {
    const p = places();
    const ro = sandboxedCommand(
      plan(p, { profile: { ...DEFAULT_PROFILE, workspace: 'ro' } }),
      'true',
      [],
    );
    expect(text(ro.args)).toContain(` --ro-bind ${p.workspace} ${p.workspace} `);
    const none = sandboxedCommand(
      plan(p, { profile: { ...DEFAULT_PROFILE, workspace: 'none' } }),
      'true',
      [],
    );
    expect(text(none.args)).not.toContain(` ${p.workspace} ${p.workspace} `);
    expect(text(none.args)).toContain(' --chdir / ');
  });

  it('with a network allow-list: binds the proxy socket, sets the proxy variables and puts the relay before the server', () => {
    const p = places();
    const socket = join(p.root, 'proxy.sock');
    const { args } = sandboxedCommand(
      plan(p, {
        profile: { ...DEFAULT_PROFILE, network: [{ host: 'localhost', port: 8080 }] },
        network: { socket },
      }),
      'node',
      ['server.js'],
    );
    const line = text(args);
    expect(line).toContain(` --bind ${socket} ${SANDBOX_PROXY_SOCKET} `);
    for (const name of ['HTTP_PROXY', 'https_proxy', 'ALL_PROXY']) {
      expect(line).toContain(` --setenv ${name} http://127.0.0.1:${RELAY_PORT} `);
    }
    expect(line).toContain(' --unsetenv NO_PROXY --unsetenv no_proxy ');
    // Still a network namespace of its own: the relay is the only way out.
    expect(line).toContain(' --unshare-all ');
    const server = args.lastIndexOf('node');
    expect(args.slice(server - 6)).toEqual([
      process.execPath,
      '-e',
      RELAY_SOURCE,
      '--',
      String(RELAY_PORT),
      SANDBOX_PROXY_SOCKET,
      'node',
      'server.js',
    ]);
    // Without one, the server is prlimit's command itself.
    expect(sandboxedCommand(plan(p), 'node', ['server.js']).args.slice(-3)).toEqual([
      '--',
      'node',
      'server.js',
    ]);
  });

  it("shows a script's node_modules read-only, not the directory around it", () => {
    const p = places();
    const script = join(p.root, 'app', 'node_modules', '@x', 'server', 'dist', 'index.js');
    mkdirSync(join(script, '..'), { recursive: true });
    writeFileSync(script, '');
    const { args } = sandboxedCommand(plan(p), process.execPath, [script]);
    expect(text(args)).toContain(` --ro-bind ${join(p.root, 'app', 'node_modules')} `);
    expect(text(args)).not.toContain(` --ro-bind ${join(p.root, 'app')} `);
  });

  it('shows a data file named on the command line alone, not its directory', () => {
    const p = places();
    const config = join(p.root, 'conf', 'server.json');
    mkdirSync(join(p.root, 'conf'));
    writeFileSync(config, '{}');
    writeFileSync(join(p.root, 'conf', 'secret.txt'), 's');
    const { args } = sandboxedCommand(plan(p), process.execPath, ['--config', config]);
    expect(text(args)).toContain(` --ro-bind ${config} ${config} `);
    expect(text(args)).not.toContain(` ${join(p.root, 'conf')} `);
  });
});

const HOST: HostSupport = {
  bwrap: { path: '/usr/bin/bwrap', version: '0.8.0' },
  prlimit: '/usr/bin/prlimit',
  userNamespaces: true,
  networkNamespaces: true,
  probeError: null,
  cgroup: {
    mounted: false,
    group: null,
    controllers: [],
    writable: false,
    delegated: false,
    summary: 'none',
  },
  root: false,
  missing: null,
};

describe('planSandbox', () => {
  const inputs = (p: ReturnType<typeof places>) => ({
    profile: DEFAULT_PROFILE,
    host: HOST,
    workspace: p.workspace,
    env: { HOME: p.home, PATH: '/usr/bin' },
    hidden: [],
    runtime: process.execPath,
  });

  it('sandboxes where the host can', () => {
    expect(planSandbox(inputs(places())).kind).toBe('sandboxed');
  });

  it('refuses where the host cannot, unless best-effort, which runs unsandboxed', () => {
    const p = places();
    const host = { ...HOST, missing: 'bwrap cannot create a user namespace here (x)' };
    const refused = planSandbox({ ...inputs(p), host });
    expect(refused).toEqual({ kind: 'refused', reason: expect.stringContaining('user namespace') });
    const lax = planSandbox({
      ...inputs(p),
      host,
      profile: { ...DEFAULT_PROFILE, mode: 'best-effort' },
    });
    expect(lax).toEqual({ kind: 'unsandboxed', reason: host.missing });
  });

  it('refuses a workspace that holds the home directory, and a profile path that does not exist', () => {
    const p = places();
    expect(planSandbox({ ...inputs(p), workspace: p.root }).kind).toBe('refused');
    const { HOME: _home, ...noHome } = inputs(p).env;
    expect(planSandbox({ ...inputs(p), env: noHome, workspace: '/' })).toEqual({
      kind: 'refused',
      reason: expect.stringContaining('the workspace is / (everything)'),
    });
    const missing = { ...DEFAULT_PROFILE, read: [join(p.root, 'nope')] };
    expect(planSandbox({ ...inputs(p), profile: missing })).toEqual({
      kind: 'refused',
      reason: `the sandbox path ${join(p.root, 'nope')} does not exist`,
    });
  });

  it('says, as root, that the process limit does not hold', () => {
    const decision = planSandbox({ ...inputs(places()), host: { ...HOST, root: true } });
    expect(decision.kind === 'sandboxed' && decision.notes[0]).toMatch(/not enforced/);
  });
});

describe('limitHit', () => {
  it('names the limit from bwrap exit status 128 + signal', () => {
    expect(limitHit(128 + 24, DEFAULT_LIMITS, [])?.message).toMatch(/CPU time limit .*SIGXCPU/);
    expect(limitHit(128 + 24, DEFAULT_LIMITS, [])).toMatchObject({
      limit: 'cpu_seconds',
      value: 3600,
      signal: 'SIGXCPU',
      exitCode: 152,
      evidence: ['exit status 152 = 128 + SIGXCPU'],
    });
    expect(limitHit(128 + 25, DEFAULT_LIMITS, [])?.message).toMatch(/file size limit .*SIGXFSZ/);
    expect(
      limitHit(128 + 6, DEFAULT_LIMITS, ['FATAL ERROR: JavaScript heap out of memory'])?.message,
    ).toMatch(/ran out of memory under its limit \(4096 MiB/);
    // SIGKILL alone cannot tell the CPU hard limit from the OOM killer; a cgroup's count can.
    expect(limitHit(128 + 9, DEFAULT_LIMITS, [])).toMatchObject({ limit: 'killed', value: null });
    expect(
      limitHit(128 + 9, DEFAULT_LIMITS, [], { memory: ['memory.events oom_kill 1'], pids: [] }),
    ).toMatchObject({
      limit: 'memory_mib',
      evidence: [expect.any(String), 'memory.events oom_kill 1'],
    });
    // A fork refused at pids.max, the server living on: only the cgroup's counter tells.
    expect(
      limitHit(0, DEFAULT_LIMITS, [], { memory: [], pids: ['pids.events max 3'] }),
    ).toMatchObject({
      limit: 'processes',
      value: 256,
      signal: null,
      evidence: ['pids.events max 3'],
    });
    expect(limitHit(0, DEFAULT_LIMITS, [], { memory: [], pids: [] })).toBeNull();
    expect(limitHit(1, DEFAULT_LIMITS, [])).toBeNull();
    expect(limitHit(null, DEFAULT_LIMITS, [])).toBeNull();
  });
});
