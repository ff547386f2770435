import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/sandbox/host.js';
import {
  asNobody,
  hostileServer,
  PLANTED_SSH_KEY,
  proxyClient,
  runProxy,
  sandboxRecords,
  sandboxUnavailable,
  world,
} from '../helpers/sandbox.js';

const unavailable = sandboxUnavailable();
const ROOT = process.getuid?.() === 0;
const LOW_LIMITS = `
[sandbox.hostile.limits]
memory_mib = 1280
processes = 32
file_size_mib = 1
cpu_seconds = 600
`;

let listener: Server;
let port = 0;
let connections = 0;
/** Told of each connection the listener accepts (its accept runs on this process's loop). */
const accepted = new Set<() => void>();
const nextConnection = () => new Promise<void>((resolve) => accepted.add(resolve));

beforeAll(async () => {
  listener = createServer((socket) => {
    connections += 1;
    socket.destroy();
    for (const tell of accepted) tell();
    accepted.clear();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

describe.skipIf(unavailable !== null)(`a hostile server ${unavailable ?? ''}`, () => {
  it('without --sandbox (the baseline): reads the keys, writes outside, connects, forks, allocates', async () => {
    const w = world();
    const session = await proxyClient(w, 'plain', hostileServer(w, port));
    expect(await session.call('read_ssh_key')).toContain(PLANTED_SSH_KEY.slice(0, 30));
    expect(await session.call('read_agentk_key')).toContain('abab');
    expect(await session.call('write_outside')).toMatch(/^ok wrote/);
    expect(readdirSync(w.outside)).toHaveLength(1);
    // The server's connect can return before this process has run its accept: wait for it.
    const connected = nextConnection();
    expect(await session.call('connect_loopback')).toBe('ok connected');
    await connected;
    expect(await session.call('fork_many', { count: 200 })).toBe('ok started 200 of 200');
    expect(await session.call('allocate', { mib: 2048 })).toBe('ok allocated 2048 MiB');
    expect(await session.call('write_big', { mib: 4 })).toBe('ok wrote 4 MiB');
    expect(await session.call('burn_cpu', { seconds: 1 })).toMatch(/^ok burned/);
    const stderr = await session.close();
    expect(stderr).not.toContain('sandboxed');
  });

  it('under its [sandbox] table: each attempt fails as the profile says, and the session answers', async () => {
    const w = world(`[sandbox.hostile]\n${LOW_LIMITS}`);
    const session = await proxyClient(w, 'hostile', hostileServer(w, port));
    expect(await session.call('hello')).toBe('ok hello');
    // $HOME is an empty tmpfs: no ~/.ssh.
    expect(await session.call('read_ssh_key')).toBe('error ENOENT');
    // The key file is in the workspace, which is bound: it is covered by /dev/null.
    const key = await session.call('read_agentk_key');
    expect(key).not.toContain('abab');
    expect(key).toMatch(/^ok read 0 bytes|^error/);
    // Nothing outside the view exists; the workspace is writable (rw by default).
    expect(await session.call('write_outside')).toBe('error ENOENT');
    expect(readdirSync(w.outside)).toEqual([]);
    expect(await session.call('write_workspace')).toMatch(/^ok wrote/);
    // A network namespace of its own: the host's loopback listener is not there.
    const before = connections;
    expect(await session.call('connect_loopback')).toBe('error ECONNREFUSED');
    expect(connections).toBe(before);
    // Memory: the allocation fails, the server lives on.
    expect(await session.call('allocate', { mib: 2048 })).toMatch(/^error .*allocation failed/i);
    // File size: EFBIG at 1 MiB (Node ignores SIGXFSZ, so the write fails instead of killing).
    expect(await session.call('write_big', { mib: 4 })).toBe('error EFBIG after 1 MiB');
    const forks = await session.call('fork_many', { count: 200 });
    // uid 0 is exempt from RLIMIT_NPROC (the non-root case is the test below).
    if (!ROOT) expect(forks).toMatch(/^error EAGAIN after \d+ of 200$/);
    expect(await session.call('hello')).toBe('ok hello');
    const stderr = await session.close();
    expect(stderr).toContain('sandboxed: workspace rw; network none; memory 1280 MiB');
    if (ROOT) expect(stderr).toContain('the process limit (32) is not enforced');
    // The trace starts with the profile the server ran under, what held it and what did not.
    const records = sandboxRecords(session.trace);
    const start = records[0] as { enforced: string[]; not_enforced: string[] };
    expect(records[0]).toMatchObject({
      event: 'start',
      server_id: 'hostile',
      state: 'sandboxed',
      profile: {
        workspace: 'rw',
        network: [],
        limits: { memory_mib: 1280, processes: 32, file_size_mib: 1, cpu_seconds: 600 },
      },
    });
    expect(start.enforced).toContain('rlimit file size 1 MiB (RLIMIT_FSIZE)');
    expect(start.enforced).toContain(
      'network: none (a network namespace with its own loopback only)',
    );
    if (ROOT) {
      expect(start.not_enforced).toContain(
        'processes (32): the kernel exempts uid 0 from RLIMIT_NPROC',
      );
    }
    // The failed allocation, EFBIG and EAGAIN were the server's to see, and it lived on:
    // without a cgroup nothing outside the sandbox can tell (docs/sandbox.md), so no limit event.
    expect(records).toHaveLength(1);
    expect(stderr).not.toMatch(/hit its|ran out of memory/);
  });

  it('a read-only workspace refuses writes; a path the profile names read-write takes them', async () => {
    const w = world();
    const { writeFileSync, appendFileSync } = await import('node:fs');
    writeFileSync(w.policy, '', { flag: 'a' });
    appendFileSync(w.policy, `[sandbox.hostile]\nworkspace = "ro"\nwrite = ["${w.outside}"]\n`);
    const session = await proxyClient(w, 'hostile', hostileServer(w, port));
    expect(await session.call('write_workspace')).toBe('error EROFS');
    expect(await session.call('write_outside')).toMatch(/^ok wrote/);
    expect(readdirSync(w.outside)).toHaveLength(1);
    await session.close();
  });

  it('a CPU limit kills a busy server, and the proxy names the limit', async () => {
    const w = world('[sandbox.hostile.limits]\ncpu_seconds = 1\n');
    const session = await proxyClient(w, 'hostile', hostileServer(w, port));
    // The answer is the proxy's: the server died of SIGXCPU mid-call.
    await expect(session.call('burn_cpu', { seconds: 120 })).rejects.toThrow(/exited|closed/i);
    const stderr = await session.close();
    expect(stderr).toContain('the server hit its CPU time limit (1 s, SIGXCPU)');
    expect(sandboxRecords(session.trace)).toEqual([
      expect.objectContaining({ event: 'start', state: 'sandboxed' }),
      {
        event: 'limit',
        server_id: 'hostile',
        limit: 'cpu_seconds',
        value: 1,
        signal: 'SIGXCPU',
        exit_code: 152,
        evidence: ['exit status 152 = 128 + SIGXCPU'],
        message: 'the server hit its CPU time limit (1 s, SIGXCPU)',
      },
    ]);
  });

  it('--sandbox fails closed with one line where bwrap cannot be found; best-effort runs unsandboxed and says so', () => {
    const w = world();
    const env = { PATH: join(w.root, 'no-such-dir') };
    const refused = runProxy(
      w,
      'plain',
      ['--sandbox', '--trace-out', join(w.root, 't.jsonl')],
      env,
    );
    expect(refused.status).toBe(2);
    const lines = refused.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /^agentk mcp-proxy-stdio: cannot sandbox the server: bubblewrap \(bwrap\) is not installed/,
      ),
    ]);
    expect(existsSync(join(w.root, 't.jsonl'))).toBe(false);

    const lax = world('[sandbox.plain]\nmode = "best-effort"\n');
    const ran = runProxy(lax, 'plain', ['--quiet', '--trace-out', join(lax.root, 't.jsonl')], env);
    expect(ran.stderr).toContain(
      'agentk plain: NOT sandboxed (best-effort): bubblewrap (bwrap) is not installed',
    );
    // The trace says so too: the profile asked for, and that none of it held.
    expect(sandboxRecords(join(lax.root, 't.jsonl'))).toEqual([
      expect.objectContaining({
        event: 'start',
        server_id: 'plain',
        state: 'unsandboxed',
        reason: expect.stringContaining('bubblewrap (bwrap) is not installed'),
        enforced: [],
      }),
    ]);
  });
});

const setpriv = findExecutable('setpriv', process.env.PATH);
describe.skipIf(unavailable !== null || !ROOT || setpriv === null)(
  'the process limit, for a proxy run as a normal user (as root, it is exempt)',
  () => {
    it('stops a fork bomb at the limit, counted inside the sandbox, and the server lives on', async (ctx) => {
      const w = world(`[sandbox.hostile]\n${LOW_LIMITS}`);
      const nobody = asNobody(w);
      if ('skip' in nobody) return ctx.skip(nobody.skip);
      const session = await proxyClient(w, 'hostile', hostileServer(w, port), [], nobody.wrapper);
      expect(await session.call('fork_many', { count: 200 })).toMatch(
        /^error EAGAIN after \d+ of 200$/,
      );
      expect(await session.call('hello')).toBe('ok hello');
      const stderr = await session.close();
      expect(stderr).not.toContain('not enforced');
    });
  },
);
