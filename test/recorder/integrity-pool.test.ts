// Line integrity on a second thread, as `agentk verify` checks a large log. The worker is
// a compiled file, so the pool itself is exercised from dist/ (built before the tests);
// from src/ (no compiled worker) the exact pass runs alone. The pool only confirms: a log
// with a tampered or re-encoded line is decided by the exact pass, which names its line.

import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { encodeEvent, lineIntact } from '../../src/recorder/encode.js';
import { IntegrityPool } from '../../src/recorder/integrity-pool.js';
import { PARALLEL_MIN_BYTES, verifyLogFile } from '../../src/recorder/verify.js';
import { memoryKernel } from '../helpers/kernel.js';

const DIST = join(PACKAGE_ROOT, 'dist', 'recorder');
type Built = {
  pool: typeof import('../../src/recorder/integrity-pool.js');
  verify: typeof import('../../src/recorder/verify.js');
};
const built = async (): Promise<Built> => ({
  pool: await import(join(DIST, 'integrity-pool.js')),
  verify: await import(join(DIST, 'verify.js')),
});

/** A sealed log of `n` tool calls, each with its signed receipt (about 1.5 KB a line). */
function bigLog(n: number): string {
  const { kernel, sink } = memoryKernel();
  for (let i = 0; i < n; i++) {
    kernel.syscall({ kind: 'tool.invoke', target: 'bench/lookup', args: { word: `w${i}` } });
  }
  kernel.close();
  return sink.text();
}

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'agentk-integrity-')), 'log.jsonl');
  writeFileSync(path, text);
  return path;
}

const LOG = bigLog(7000);
const LINES = LOG.split('\n').slice(0, -1);

/** The log with line `number` (1-based) edited, nothing re-chained. */
function edited(number: number, edit: (line: string) => string): string {
  const lines = [...LINES];
  lines[number - 1] = edit(lines[number - 1] as string);
  return `${lines.join('\n')}\n`;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the integrity pool (compiled)', () => {
  it('confirms intact lines and refuses to confirm a tampered or re-encoded one', async () => {
    const { IntegrityPool: Pool } = (await built()).pool;
    const confirm = (lines: readonly string[]) => {
      const pool = Pool.start();
      expect(pool, 'the compiled worker starts').not.toBeNull();
      for (const line of lines) pool?.add(Buffer.from(line));
      return pool?.finish();
    };
    // 7,000 lines of 1.5 KB: more batches than the queue holds, so adding waits on the worker.
    expect(confirm(LINES)).toBe(true);
    expect(confirm([])).toBe(true);
    const line = LINES[10] as string;
    expect(confirm([line, line.replace('bench/lookup', 'bench/lookuq'), line])).toBe(false);
    expect(confirm([line.replace('":', '": ')])).toBe(false);
    expect(confirm([line, `${line} `])).toBe(false);
    // A line longer than a slot is never confirmed, intact or not: the exact pass decides.
    const long = encodeEvent({ pad: 'a'.repeat(2 << 20) }).line;
    expect(lineIntact(Buffer.from(long))).toBe(true);
    expect(confirm([line, long, line])).toBe(false);
  });

  it('verifies a large intact log on two threads', async () => {
    const { pool, verify } = await built();
    expect(statSync(file(LOG)).size).toBeGreaterThan(PARALLEL_MIN_BYTES);
    const start = vi.spyOn(pool.IntegrityPool, 'start');
    const result = verify.verifyLogFile(file(LOG));
    expect(start).toHaveReturnedWith(expect.any(pool.IntegrityPool));
    expect(result).toMatchObject({ ok: true, events: LINES.length - 1 });
  });

  it('names the line of a tampered or re-encoded event the exact way', async () => {
    const { verify } = await built();
    const tampered = verify.verifyLogFile(
      file(edited(5000, (line) => line.replace('bench/lookup', 'bench/lookuq'))),
    );
    expect(tampered).toMatchObject({ ok: false, code: 'hash-mismatch', line: 5000 });
    const spaced = verify.verifyLogFile(file(edited(6000, (line) => line.replace('":', '": '))));
    expect(spaced).toMatchObject({ ok: false, code: 'not-canonical', line: 6000 });
    const unsealed = verify.verifyLogFile(file(`${LINES.slice(0, -1).join('\n')}\n`));
    expect(unsealed).toMatchObject({ ok: false, code: 'unsealed', events: LINES.length - 1 });
  });

  it('leaves a log with a visitor to the exact pass, which the visitor sees once', async () => {
    const { pool, verify } = await built();
    const start = vi.spyOn(pool.IntegrityPool, 'start');
    let seen = 0;
    const result = verify.verifyLogFile(file(LOG), () => {
      seen += 1;
      return undefined;
    });
    expect(result.ok).toBe(true);
    expect(seen).toBe(LINES.length);
    expect(start).not.toHaveBeenCalled();
  });
});

describe('without the compiled worker (running from src/)', () => {
  it('has no pool, and verifies the same large log the exact way', () => {
    expect(IntegrityPool.start()).toBeNull();
    expect(verifyLogFile(file(LOG))).toMatchObject({ ok: true, events: LINES.length - 1 });
  });
});
