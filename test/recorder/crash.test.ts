// A run killed with SIGKILL mid-way leaves a log that verifies up to its last complete
// event and reports "unsealed" (or, if the kill tore the last write, a torn tail on the
// last line only): the recorder appends each event before the syscall returns. The
// checkpoints signed on the kernel's signing thread before the kill cover all but the tail.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { DEFAULT_POLICY } from '../helpers/kernel.js';

/** The complete lines of the trace: events, and checkpoint lines apart. */
function lines(path: string): { events: number; checkpoints: number[] } {
  try {
    if (statSync(path).size === 0) return { events: 0, checkpoints: [] };
    const complete = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    const checkpoints = complete
      .filter((line) => line.startsWith('{"checkpoint":'))
      .map((line) => JSON.parse(line).checkpoint.event_count as number);
    return { events: complete.length - checkpoints.length, checkpoints };
  } catch {
    return { events: 0, checkpoints: [] };
  }
}

describe('a run killed with SIGKILL', () => {
  it('leaves a log that verifies up to its last complete event and reports unsealed', async () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'agentk-crash-')), 'run.jsonl');
    const child = spawn(
      process.execPath,
      [join(PACKAGE_ROOT, 'test', 'fixtures', 'endless-agent.mjs'), trace, DEFAULT_POLICY],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    const deadline = Date.now() + 30_000;
    // Wait for 500 events and two checkpoints (the signing thread at work), or the deadline.
    const ready = () => {
      const seen = lines(trace);
      return seen.events >= 500 && seen.checkpoints.length >= 2;
    };
    while (!ready() && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    expect(await exited, stderr).toBe('SIGKILL');

    const { events, checkpoints } = lines(trace);
    expect(events).toBeGreaterThanOrEqual(500);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    const result = verifyLogFile(trace);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(['unsealed', 'torn-tail']).toContain(result.code);
    expect(result.events).toBe(events);
    expect(result.line).toBe(events + checkpoints.length + 1);
    // Every complete checkpoint verified: the last one bounds the signed part.
    expect(result.covered).toBe(checkpoints.at(-1));
    expect(result.covered).toBeLessThanOrEqual(events);
  });
});
