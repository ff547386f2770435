// cgroup v2 detection and the sandbox's group, against a fake hierarchy: this host has a
// v1/hybrid hierarchy with no controllers delegated, so the real writes cannot run here
// (docs/sandbox.md says so). The fake tree is plain files: what is checked is which files
// the code reads and writes, and with what; not that a kernel enforces them.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxedCommand } from '../../src/sandbox/argv.js';
import {
  cgroupHits,
  detectCgroup,
  enterCgroup,
  hostCgroupPaths,
  makeSandboxCgroup,
} from '../../src/sandbox/cgroup.js';
import type { HostSupport } from '../../src/sandbox/host.js';
import { DEFAULT_LIMITS, DEFAULT_PROFILE } from '../../src/sandbox/profile.js';
import { startRecord } from '../../src/sandbox/record.js';

const GROUP = '/user.slice/user-1000.slice/user@1000.service/app.slice/agentk.scope';

/** A fake unified hierarchy with our group holding `controllers`. */
function fakeTree(
  controllers: string,
  options: { readonly mounted?: boolean; readonly procs?: string } = {},
) {
  const root = mkdtempSync(join(tmpdir(), 'agentk-cgroup-'));
  if (options.mounted !== false)
    writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory pids io\n');
  const dir = join(root, GROUP);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cgroup.controllers'), `${controllers}\n`);
  writeFileSync(join(dir, 'cgroup.subtree_control'), '');
  writeFileSync(join(dir, 'cgroup.procs'), options.procs ?? `${process.pid}\n`);
  return { paths: { root, self: `0::${GROUP}\n` }, dir };
}

describe('detectCgroup', () => {
  it('a v1 or hybrid hierarchy: not mounted, not used', () => {
    const { paths } = fakeTree('memory pids', { mounted: false });
    const host = detectCgroup(paths);
    expect(host).toMatchObject({ mounted: false, delegated: false });
    expect(host.summary).toMatch(/not mounted .*v1 or hybrid.*rlimits enforce/);
  });

  it('a group with memory and pids that we may write: delegated', () => {
    const { paths } = fakeTree('cpu memory pids');
    const host = detectCgroup(paths);
    expect(host).toMatchObject({
      mounted: true,
      group: GROUP,
      controllers: ['cpu', 'memory', 'pids'],
      writable: true,
      delegated: true,
    });
    expect(host.summary).toContain('delegated to us');
  });

  it('a group without the pids controller: not delegated, and says which is missing', () => {
    const { paths } = fakeTree('cpu memory');
    const host = detectCgroup(paths);
    expect(host.delegated).toBe(false);
    expect(host.summary).toMatch(/pids not delegated: not used/);
  });

  it('a group that holds other processes (the client that started us) is not ours to divide', () => {
    const { paths } = fakeTree('memory pids', { procs: `${process.pid}\n4242\n` });
    const host = detectCgroup(paths);
    expect(host).toMatchObject({ writable: true, delegated: false });
    expect(host.summary).toMatch(/holds 1 other process\(es\): give AgentK a group of its own/);
  });

  it('a process in no v2 group (only v1 lines in /proc/self/cgroup)', () => {
    const { paths } = fakeTree('memory pids');
    const host = detectCgroup({ ...paths, self: '12:memory:/user.slice\n' });
    expect(host).toMatchObject({ mounted: true, group: null, delegated: false });
  });

  it('this host, as it is (reported, whatever it has)', () => {
    const host = detectCgroup(hostCgroupPaths());
    expect(host.summary).toMatch(/^cgroup v2 /);
  });
});

describe('makeSandboxCgroup', () => {
  it('moves the proxy into a leaf, enables the controllers, and writes the limits', () => {
    const { paths, dir } = fakeTree('cpu memory pids');
    const host = detectCgroup(paths);
    const limits = { ...DEFAULT_LIMITS, memoryMib: 1280, processes: 32, cpuPercent: 50 };
    const group = makeSandboxCgroup(paths, host, 'run1', limits, 777);
    expect(group.dir).toBe(join(dir, 'agentk-sandbox-run1'));
    expect(readFileSync(join(dir, 'agentk-proxy', 'cgroup.procs'), 'utf8')).toBe('777\n');
    expect(readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +pids +cpu\n');
    const read = (file: string) => readFileSync(join(group.dir, file), 'utf8');
    expect(read('memory.max')).toBe(`${1280 * 1024 * 1024}\n`);
    expect(read('memory.swap.max')).toBe('0\n');
    expect(read('pids.max')).toBe('32\n');
    expect(read('cpu.max')).toBe('50000 100000\n');
    expect(group.settings).toEqual([
      `memory.max ${1280 * 1024 * 1024}`,
      'memory.swap.max 0',
      'pids.max 32',
      'cpu.max 50000 100000',
    ]);
  });

  it('without cpu_percent, no cpu controller is asked for', () => {
    const { paths, dir } = fakeTree('memory pids');
    makeSandboxCgroup(paths, detectCgroup(paths), 'run2', DEFAULT_LIMITS, 1);
    expect(readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +pids\n');
  });

  it('refuses a host that does not delegate, and cpu_percent without the cpu controller', () => {
    const v1 = fakeTree('memory pids', { mounted: false });
    expect(() =>
      makeSandboxCgroup(v1.paths, detectCgroup(v1.paths), 'x', DEFAULT_LIMITS, 1),
    ).toThrow(/not delegated/);
    const noCpu = fakeTree('memory pids');
    expect(() =>
      makeSandboxCgroup(
        noCpu.paths,
        detectCgroup(noCpu.paths),
        'x',
        { ...DEFAULT_LIMITS, cpuPercent: 10 },
        1,
      ),
    ).toThrow(/cpu_percent needs the cpu controller/);
  });

  it('a group that already exists is refused with what failed (never shared between sandboxes)', () => {
    const { paths } = fakeTree('memory pids');
    const host = detectCgroup(paths);
    makeSandboxCgroup(paths, host, 'same', DEFAULT_LIMITS, 1);
    expect(() => makeSandboxCgroup(paths, host, 'same', DEFAULT_LIMITS, 1)).toThrow(
      /cannot make .*agentk-sandbox-same \(EEXIST\)/,
    );
  });
});

describe('cgroupHits and enterCgroup', () => {
  it('reads memory.events and pids.events: only counters above zero count', () => {
    const { paths } = fakeTree('memory pids');
    const group = makeSandboxCgroup(paths, detectCgroup(paths), 'h', DEFAULT_LIMITS, 1);
    expect(cgroupHits(group)).toEqual({ memory: [], pids: [] });
    writeFileSync(join(group.dir, 'memory.events'), 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n');
    writeFileSync(join(group.dir, 'pids.events'), 'max 3\n');
    expect(cgroupHits(group)).toEqual({
      memory: ['memory.events oom_kill 1', 'memory.events oom 1', 'memory.events max 5'],
      pids: ['pids.events max 3'],
    });
  });

  it('the server enters the group before bwrap: a shell writes its own pid, then execs', async () => {
    const { paths } = fakeTree('memory pids');
    const group = makeSandboxCgroup(paths, detectCgroup(paths), 'e', DEFAULT_LIMITS, 1);
    const line = enterCgroup(group, '/bin/echo', ['bwrap', 'ran']);
    const { spawnSync } = await import('node:child_process');
    const ran = spawnSync(line.command, line.args, { encoding: 'utf8' });
    expect(ran.stdout).toBe('bwrap ran\n');
    // In the fake tree the write is a file: the shell wrote "0" (the kernel reads it as "me").
    expect(readFileSync(join(group.dir, 'cgroup.procs'), 'utf8')).toBe('0\n');
  });
});

describe('a sandbox with its group', () => {
  it('starts bwrap inside the group, and the start record says what the group enforces', () => {
    const { paths } = fakeTree('memory pids');
    const cgroup = detectCgroup(paths);
    const limits = { ...DEFAULT_LIMITS, processes: 32 };
    const group = makeSandboxCgroup(paths, cgroup, 'r', limits, 1);
    const profile = { ...DEFAULT_PROFILE, limits };
    const workspace = mkdtempSync(join(tmpdir(), 'agentk-cgroup-ws-'));
    const line = sandboxedCommand(
      {
        profile,
        bwrap: '/usr/bin/bwrap',
        prlimit: '/usr/bin/prlimit',
        workspace,
        home: undefined,
        path: '/usr/bin:/bin',
        hidden: [],
        runtime: process.execPath,
        cgroup: group,
      },
      'node',
      ['server.js'],
    );
    expect(line.command).toBe('/bin/sh');
    expect(line.args.slice(3, 5)).toEqual([join(group.dir, 'cgroup.procs'), '/usr/bin/bwrap']);
    expect(line.args).toContain('--unshare-all');
    const host: HostSupport = {
      bwrap: { path: '/usr/bin/bwrap', version: '0.8.0' },
      prlimit: '/usr/bin/prlimit',
      userNamespaces: true,
      networkNamespaces: true,
      probeError: null,
      cgroup,
      root: true,
      missing: null,
    };
    const record = startRecord('fs', profile, host, {
      state: 'sandboxed',
      cgroup: group,
      cgroupProblem: null,
    }) as unknown as { enforced: string[]; not_enforced: string[] };
    expect(record.enforced).toContain('cgroup pids.max 32 for the whole sandbox');
    // As root RLIMIT_NPROC does not hold, but the group's pids.max does: both are said.
    expect(record.not_enforced).toContain(
      'processes (32): the kernel exempts uid 0 from RLIMIT_NPROC',
    );
    expect(record.not_enforced.join('\n')).not.toContain('no cgroup');
    const without = startRecord(
      'fs',
      profile,
      { ...host, root: false },
      {
        state: 'sandboxed',
        cgroup: null,
        cgroupProblem: null,
      },
    ) as unknown as { enforced: string[]; not_enforced: string[] };
    expect(without.enforced).toContain('rlimit processes 32 (RLIMIT_NPROC)');
    expect(without.not_enforced[0]).toMatch(
      /^whole-sandbox memory and process totals \(no cgroup: /,
    );
  });
});
