// A run killed with SIGKILL mid-way leaves a log that verifies up to its last complete
// event and reports "unsealed" (or, if the kill tore the last write, a torn tail on the
// last line only): the recorder appends each event before the syscall returns.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { DEFAULT_POLICY } from '../helpers/kernel.js';

function lineCount(path: string): number {
  try {
    if (statSync(path).size === 0) return 0;
    return readFileSync(path, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
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
    while (lineCount(trace) < 500 && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    expect(await exited, stderr).toBe('SIGKILL');

    const lines = lineCount(trace);
    expect(lines).toBeGreaterThanOrEqual(500);
    const result = verifyLogFile(trace);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    if (result.code === 'unsealed') {
      expect(result.events).toBe(lines);
      expect(result.line).toBe(lines + 1);
    } else {
      expect(result.code).toBe('torn-tail');
      expect(result.events).toBe(lines);
      expect(result.line).toBe(lines + 1);
    }
  });
});
