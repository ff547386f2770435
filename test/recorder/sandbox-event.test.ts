// The `sandbox` event (docs/flight-log.md): chained and sealed like a syscall, checked for
// its exact shape, in format 2 logs only. Format 1 and 2 logs without one are unchanged.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventShapeProblem } from '../../src/recorder/shape.js';
import { verifyLogText } from '../../src/recorder/verify.js';
import { readReviewedLog } from '../../src/review/log.js';
import { parseLog, rechain } from '../helpers/forge.js';
import { memoryKernel } from '../helpers/kernel.js';

const START = {
  event: 'start',
  server_id: 'fs',
  state: 'sandboxed',
  profile: { mode: 'required', workspace: 'rw', read: [], write: [], network: [], limits: {} },
  enforced: ['rlimit CPU time 1 s per process (RLIMIT_CPU)'],
  not_enforced: ['system calls (no seccomp filter)'],
  host: { bwrap: '0.8.0', root: false, cgroup: 'cgroup v2 not mounted' },
} as const;
const LIMIT = {
  event: 'limit',
  server_id: 'fs',
  limit: 'cpu_seconds',
  value: 1,
  signal: 'SIGXCPU',
  exit_code: 152,
  evidence: ['exit status 152 = 128 + SIGXCPU'],
  message: 'the server hit its CPU time limit (1 s, SIGXCPU)',
} as const;

function sandboxLog(): string {
  const { kernel, sink } = memoryKernel();
  kernel.recordSandbox(START);
  kernel.syscall({ kind: 'tool.invoke', target: 'fs/read_file', intent: 'read a file' });
  kernel.recordSandbox(LIMIT);
  kernel.close();
  expect(() => kernel.recordSandbox(LIMIT)).toThrow();
  return sink.text();
}

describe('the sandbox event', () => {
  it('is chained and sealed with the syscalls, and review tools get it apart from them', () => {
    const log = sandboxLog();
    const result = verifyLogText(log);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.events).toBe(3);
    const events = parseLog(log);
    expect(events.map((event) => [event.step, event.type])).toEqual([
      [1, 'sandbox'],
      [2, 'syscall'],
      [3, 'sandbox'],
      [4, 'seal'],
    ]);
    expect(events[0]).toMatchObject({ v: 2, sandbox: START });
    const path = join(mkdtempSync(join(tmpdir(), 'agentk-sandbox-event-')), 'run.jsonl');
    writeFileSync(path, log);
    const reviewed = readReviewedLog(path);
    expect(reviewed.status).toBe('sealed');
    expect(reviewed.events.map((event) => event.step)).toEqual([2]);
    expect(reviewed.sandbox.map((event) => event.sandbox.event)).toEqual(['start', 'limit']);
  });

  it('refuses a field the writer does not produce, an unknown event, and bad types', () => {
    const events = parseLog(sandboxLog());
    const forged = (change: (events: ReturnType<typeof parseLog>) => void) => {
      const copy = structuredClone(events);
      change(copy);
      const result = verifyLogText(rechain(copy));
      return result.ok ? 'ok' : `${result.code}: ${result.detail}`;
    };
    expect(
      forged((e) => {
        e[0].sandbox.approved_by = 'security';
      }),
    ).toBe('bad-shape: sandbox has an unexpected field');
    expect(
      forged((e) => {
        e[2].sandbox.event = 'note';
      }),
    ).toBe('bad-shape: sandbox event is not start or limit');
    expect(
      forged((e) => {
        e[2].sandbox.event = 'constructor';
      }),
    ).toBe('bad-shape: sandbox event is not start or limit');
    expect(
      forged((e) => {
        e[2].sandbox.value = '1';
      }),
    ).toBe('bad-shape: sandbox value is not an integer');
    expect(
      forged((e) => {
        e[0].sandbox.state = 'mostly';
      }),
    ).toBe('bad-shape: sandbox state is not sandboxed or unsandboxed');
    expect(
      forged((e) => {
        delete e[2].sandbox.evidence;
      }),
    ).toBe('bad-shape: sandbox is missing evidence');
    expect(
      forged((e) => {
        e[0].syscall = {};
      }),
    ).toBe('bad-shape: event has an unexpected field');
  });

  it('exists in format 2 only', () => {
    const [first] = parseLog(sandboxLog());
    expect(eventShapeProblem(first)).toBeUndefined();
    expect(eventShapeProblem({ ...first, v: 1 })).toBe('a sandbox event in a format 1 log');
  });
});
