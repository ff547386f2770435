// A limit hit under the sandbox is evidence: the proxy says which limit on stderr, in one
// line, and the trace has a `sandbox` limit event (docs/sandbox.md, docs/flight-log.md).
// Real processes: the proxy binary, bubblewrap, prlimit, a hostile server that grows V8's
// heap under an address-space limit, and a program that dies of SIGXFSZ. The CPU limit's
// case is in sandbox-hostile.test.ts. No assertion waits on a clock: each waits for the
// server's death (the limit's own doing) and the proxy's exit.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agentk,
  hostileServer,
  proxyClient,
  proxyUntilExit,
  sandboxRecords,
  sandboxUnavailable,
  world,
} from '../helpers/sandbox.js';

const unavailable = sandboxUnavailable();

describe.skipIf(unavailable !== null)(`limits as evidence ${unavailable ?? ''}`, () => {
  it('a server whose V8 heap outgrows its address space aborts; the proxy and the trace say it ran out of memory', async () => {
    const w = world('[sandbox.hostile.limits]\nmemory_mib = 1280\n');
    const session = await proxyClient(w, 'hostile', hostileServer(w, 1));
    expect(await session.call('hello')).toBe('ok hello');
    await expect(session.call('grow_heap', { mib: 4096 })).rejects.toThrow(/exited|closed/i);
    const stderr = await session.close();
    const line = 'the server ran out of memory under its limit (1280 MiB address space, SIGABRT)';
    expect(stderr).toContain(line);
    const records = sandboxRecords(session.trace);
    expect(records.map((record) => record.event)).toEqual(['start', 'limit']);
    expect(records[1]).toEqual({
      event: 'limit',
      server_id: 'hostile',
      limit: 'memory_mib',
      value: 1280,
      signal: 'SIGABRT',
      exit_code: 134,
      evidence: ['exit status 134 = 128 + SIGABRT', 'its stderr says it ran out of memory'],
      message: line,
    });
    // The log with its sandbox events verifies, its signatures too, and inspect shows them.
    expect(agentk(w, ['verify', session.trace]).status).toBe(0);
    expect(agentk(w, ['verify-signatures', session.trace]).status).toBe(0);
    const inspected = agentk(w, ['trace-inspect', session.trace]);
    expect(inspected.status).toBe(0);
    expect(inspected.stdout).toContain(`(hostile): ${line}`);
    expect(inspected.stdout).toMatch(/\(hostile\): sandboxed; enforced: filesystem view/);
  });

  it('a program that does not ignore SIGXFSZ dies of it at the file size limit; the proxy and the trace name it', async () => {
    const w = world('[sandbox.writer.limits]\nfile_size_mib = 1\n');
    const trace = join(w.root, 'writer.jsonl');
    const server = ['/bin/sh', '-c', 'exec head -c 4194304 /dev/zero > big.bin'];
    const ran = await proxyUntilExit(w, 'writer', server, trace);
    expect(ran.status).toBe(1);
    const line = 'the server hit its file size limit (1 MiB, SIGXFSZ)';
    expect(ran.stderr).toContain(line);
    expect(existsSync(join(w.workspace, 'big.bin'))).toBe(true);
    expect(sandboxRecords(trace)).toEqual([
      expect.objectContaining({ event: 'start', server_id: 'writer', state: 'sandboxed' }),
      {
        event: 'limit',
        server_id: 'writer',
        limit: 'file_size_mib',
        value: 1,
        signal: 'SIGXFSZ',
        exit_code: 153,
        evidence: ['exit status 153 = 128 + SIGXFSZ'],
        message: line,
      },
    ]);
    expect(agentk(w, ['verify', trace]).status).toBe(0);
    // Review tools read past it: why has no refusal to explain, replay nothing to re-decide.
    expect(agentk(w, ['why', trace]).status).toBe(0);
    expect(agentk(w, ['replay', trace]).status).toBe(0);
    expect(agentk(w, ['fork-replay', trace, '--policy', w.policy]).status).toBe(0);
    // The viewer verifies it and shows the session (its rows are the syscalls).
    const page = join(w.root, 'view.html');
    expect(agentk(w, ['view', trace, '--out', page]).status).toBe(0);
    expect(existsSync(page)).toBe(true);
  });
});
