// A batch on a file sink: one write(2) for all its events, and with `fsync` durability one
// fsync for all of them (each event alone still gets its own write and fsync).

import * as fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { demoSteps } from '../../src/demo/poisoned-page.js';
import type { Durability } from '../../src/recorder/sink.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { memoryKernel } from '../helpers/kernel.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, writeSync: vi.fn(real.writeSync), fsyncSync: vi.fn(real.fsyncSync) };
});

const steps = demoSteps().slice(0, 4);

function fileKernel(durability: Durability) {
  const path = join(mkdtempSync(join(tmpdir(), 'agentk-batch-')), 'run.jsonl');
  return { kernel: memoryKernel({ trace: { path, durability } }).kernel, path };
}

const writes = () => vi.mocked(fs.writeSync).mock.calls.length;
const fsyncs = () => vi.mocked(fs.fsyncSync).mock.calls.length;

describe('a batch on a file sink', () => {
  beforeEach(() => {
    vi.mocked(fs.writeSync).mockClear();
    vi.mocked(fs.fsyncSync).mockClear();
  });

  it('writes all its events with one write(2), and one fsync with fsync durability', () => {
    const { kernel, path } = fileKernel('fsync');
    kernel.batch(() => {
      for (const step of steps) kernel.syscall(step);
      expect(writes()).toBe(0);
    });
    expect([writes(), fsyncs()]).toEqual([1, 1]);
    for (const step of steps) kernel.syscall(step);
    expect([writes(), fsyncs()]).toEqual([1 + steps.length, 1 + steps.length]);
    kernel.close();
    const result = verifyLogFile(path);
    expect(result.ok && result.events).toBe(2 * steps.length);
  });

  it('with group durability, leaves the fsync to sync(), once', () => {
    const { kernel } = fileKernel('group');
    kernel.batch(() => {
      for (const step of steps) kernel.syscall(step);
    });
    expect([writes(), fsyncs()]).toEqual([1, 0]);
    kernel.sync();
    expect(fsyncs()).toBe(1);
    kernel.close();
  });
});
