// The proxy's sandbox with a cgroup, wired end to end against a fake cgroup tree: this host
// does not delegate cgroup v2 (docs/sandbox.md), so the tree is plain files. What runs is
// real: the command line the proxy spawns (the shell that enters the group, then bwrap,
// prlimit and the server); what is faked is only the kernel's side of the group's files
// (the counters are written by the test, as a kernel would have written them).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordSandboxStart, sandboxEnded, sandboxSetup } from '../../src/cli/sandbox-setup.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { sandboxedCommand } from '../../src/sandbox/argv.js';
import { memoryKernel } from '../helpers/kernel.js';
import { sandboxUnavailable } from '../helpers/sandbox.js';

const BASE = `[agent]\nid = "t"\n\n[[rules]]\nid = "default-deny"\neffect = "deny"\nreason = "no"\n`;
const GROUP = '/user.slice/user-1000.slice/user@1000.service/app.slice/agentk.scope';
const unavailable = sandboxUnavailable();

describe.skipIf(unavailable !== null)(
  `a sandbox with a cgroup (fake tree) ${unavailable ?? ''}`,
  () => {
    it('makes the group, starts the server inside it, records what it enforces and a pids.max hit', async () => {
      const root = mkdtempSync(join(tmpdir(), 'agentk-cgroup-proxy-'));
      const tree = join(root, 'cgroup');
      const dir = join(tree, GROUP);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(tree, 'cgroup.controllers'), 'cpu memory pids\n');
      writeFileSync(join(dir, 'cgroup.controllers'), 'cpu memory pids\n');
      writeFileSync(join(dir, 'cgroup.subtree_control'), '');
      writeFileSync(join(dir, 'cgroup.procs'), `${process.pid}\n`);
      const workspace = join(root, 'workspace');
      mkdirSync(workspace);
      const policy = parsePolicyText(
        `${BASE}\n[sandbox.srv.limits]\nmemory_mib = 1280\nprocesses = 32\ncpu_percent = 50\n`,
        'p.toml',
      );
      const said: string[] = [];
      const setup = sandboxSetup(policy, 'srv', workspace, [], {
        flag: false,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(root, 'home') },
        quiet: false,
        say: (line) => said.push(line),
        cgroups: { root: tree, self: `0::${GROUP}\n` },
      });
      const group = join(dir, `agentk-sandbox-${process.pid}`);
      expect(setup.plan?.cgroup?.dir).toBe(group);
      expect(readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8')).toBe(
        '+memory +pids +cpu\n',
      );
      expect(readFileSync(join(group, 'pids.max'), 'utf8')).toBe('32\n');
      expect(readFileSync(join(group, 'cpu.max'), 'utf8')).toBe('50000 100000\n');
      expect(said).toContain(
        'sandboxed: workspace rw; network none; memory 1280 MiB, 32 processes, 1024 files, file size 1024 MiB, cpu 3600 s, cpu share 50%',
      );

      // The command line the proxy spawns: the shell enters the group, bwrap runs the server.
      const plan = setup.plan;
      if (plan === undefined) throw new Error('the setup has no plan');
      const launch = sandboxedCommand(plan, '/bin/sh', ['-c', 'echo inside']);
      const child = spawn(launch.command, launch.args, {
        cwd: workspace,
        env: { PATH: '/usr/bin:/bin' },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect([code, out]).toEqual([0, 'inside\n']);
      // The shell wrote "0" (itself) to the group's procs: a kernel would have moved it there.
      expect(readFileSync(join(group, 'cgroup.procs'), 'utf8')).toBe('0\n');

      const { kernel, sink } = memoryKernel();
      recordSandboxStart(setup, kernel);
      // What the kernel would have counted: forks refused at pids.max while the server lived on.
      writeFileSync(join(group, 'pids.events'), 'max 3\n');
      const hit = sandboxEnded(setup, kernel, { code: 0 }, []);
      expect(hit?.message).toBe(
        'the server hit its process limit (32, cgroup pids.max): forks failed with EAGAIN',
      );
      kernel.close();
      const records = sink
        .text()
        .split('\n')
        .filter((line) => line.includes('"type":"sandbox"'))
        .map((line) => JSON.parse(line).sandbox);
      expect(records[0].enforced).toEqual(
        expect.arrayContaining([
          `cgroup memory.max ${1280 * 1024 * 1024} for the whole sandbox`,
          'cgroup pids.max 32 for the whole sandbox',
          'cgroup cpu.max 50000 100000 for the whole sandbox',
        ]),
      );
      expect(records[0].not_enforced.join('\n')).not.toMatch(/no cgroup|CPU share/);
      expect(records[1]).toEqual({
        event: 'limit',
        server_id: 'srv',
        limit: 'processes',
        value: 32,
        signal: null,
        exit_code: 0,
        evidence: ['pids.events max 3'],
        message: hit?.message,
      });
    });
  },
);
