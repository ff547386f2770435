// The fast pass of `agentk verify` on a large log: a worker thread reads the lines and
// checks their bytes while the main thread parses and chains them. The worker is a
// compiled file, so this is exercised from dist/ (built before the tests); from src/ (no
// compiled worker) the exact pass runs alone. The worker only confirms: a log with a
// tampered or re-encoded line, or one the fast pass does not handle, is decided by the
// exact pass, which names its line.

import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { developmentSigner } from '../../src/evidence/keys.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { CheckedLines } from '../../src/recorder/checked-lines.js';
import { encodeEvent, lineIntact } from '../../src/recorder/encode.js';
import { FlightRecorder } from '../../src/recorder/recorder.js';
import { MemorySink } from '../../src/recorder/sink.js';
import { PARALLEL_MIN_BYTES, verifyLogFile } from '../../src/recorder/verify.js';
import { memoryKernel } from '../helpers/kernel.js';

const DIST = join(PACKAGE_ROOT, 'dist', 'recorder');
type Built = {
  lines: typeof import('../../src/recorder/checked-lines.js');
  verify: typeof import('../../src/recorder/verify.js');
};
const built = async (): Promise<Built> => ({
  lines: await import(join(DIST, 'checked-lines.js')),
  verify: await import(join(DIST, 'verify.js')),
});

/**
 * A sealed log of `n` tool calls (over 1 KB a line): one recorded by the kernel, with
 * its receipt, appended again and again as the benchmark does (fast to build).
 */
function bigLog(n: number): string {
  const { kernel, sink: first } = memoryKernel();
  kernel.syscall({ kind: 'tool.invoke', target: 'bench/lookup', args: { word: 'kernel' } });
  const { step, previous_hash, event_hash, v, ...template } = JSON.parse(first.lines[0] as string);
  const sink = new MemorySink();
  const recorder = new FlightRecorder(sink, template.run_id);
  for (let i = 0; i < n; i++) {
    recorder.append({ ...template, ts: new Date(1_800_000_000_000 + i).toISOString() });
  }
  recorder.seal(developmentSigner(), 'agentk-agent', '2027-01-01T00:00:00.000Z');
  return sink.text();
}

// One file, rewritten by each test: the logs here are tens of megabytes.
const PATH = join(mkdtempSync(join(tmpdir(), 'agentk-checked-')), 'log.jsonl');
function file(text: string): string {
  writeFileSync(PATH, text);
  return PATH;
}

/** Just over the size from which `verify` takes the fast pass. */
const LOG = bigLog(Math.ceil(PARALLEL_MIN_BYTES / 1000));
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

describe('checked lines (compiled)', () => {
  /** What the worker confirms of a text, and the lines the main thread was given. */
  async function read(text: string): Promise<{ confirmed: boolean; lines: string[] }> {
    const { CheckedLines: Checked } = (await built()).lines;
    const checked = Checked.open(file(text));
    expect(checked, 'the compiled worker starts').not.toBeNull();
    // Each line is a view of a slot the worker refills later: read it while it is current.
    const lines: string[] = [];
    for (const line of checked?.lines() ?? []) lines.push(line.toString());
    return { confirmed: checked?.finish() === true, lines };
  }

  it('hands over every line as written, and confirms an intact log', async () => {
    // Tens of megabytes: more slots than the ring holds, so each side waits on the other.
    expect(await read(LOG)).toEqual({ confirmed: true, lines: LINES });
    expect(await read('')).toEqual({ confirmed: true, lines: [] });
  });

  it('refuses to confirm a tampered, re-encoded, unterminated or overlong line', async () => {
    const line = LINES[10] as string;
    const refused = async (text: string) => expect((await read(text)).confirmed).toBe(false);
    await refused(edited(3000, (l) => l.replace('bench/lookup', 'bench/lookuq')));
    await refused(edited(LINES.length - 1, (l) => l.replace('bench/lookup', 'bench/lookuq')));
    await refused(edited(3000, (l) => l.replace('":', '": ')));
    await refused(LOG.slice(0, -1));
    await refused(`${LOG}\n`);
    // A line longer than a slot is never confirmed, intact or not: the exact pass decides.
    const long = encodeEvent({ pad: 'a'.repeat(2 << 20) }).line;
    expect(lineIntact(Buffer.from(long))).toBe(true);
    await refused(`${line}\n${long}\n${line}\n`);
  });

  it('verifies a large intact log on two threads (given two cores)', async () => {
    const { lines, verify } = await built();
    expect(statSync(file(LOG)).size).toBeGreaterThan(PARALLEL_MIN_BYTES);
    const open = vi.spyOn(lines.CheckedLines, 'open');
    const result = verify.verifyLogFile(file(LOG));
    // With one core there is no second thread to win anything: the exact pass runs alone.
    if (availableParallelism() >= 2)
      expect(open).toHaveReturnedWith(expect.any(lines.CheckedLines));
    else expect(open).not.toHaveBeenCalled();
    expect(result).toMatchObject({ ok: true, events: LINES.length - 1 });
  });

  it('names the line of a tampered or re-encoded event the exact way', async () => {
    const { verify } = await built();
    const tampered = verify.verifyLogFile(
      file(edited(20_000, (line) => line.replace('bench/lookup', 'bench/lookuq'))),
    );
    expect(tampered).toMatchObject({ ok: false, code: 'hash-mismatch', line: 20_000 });
    const spaced = verify.verifyLogFile(file(edited(6000, (line) => line.replace('":', '": '))));
    expect(spaced).toMatchObject({ ok: false, code: 'not-canonical', line: 6000 });
    const torn = verify.verifyLogFile(file(LOG.slice(0, -1)));
    expect(torn).toMatchObject({ ok: false, code: 'torn-tail', line: LINES.length });
    const unsealed = verify.verifyLogFile(file(`${LINES.slice(0, -1).join('\n')}\n`));
    expect(unsealed).toMatchObject({ ok: false, code: 'unsealed', events: LINES.length - 1 });
  });

  it('leaves a log with a visitor to the exact pass, which the visitor sees once', async () => {
    const { lines, verify } = await built();
    const open = vi.spyOn(lines.CheckedLines, 'open');
    let seen = 0;
    const result = verify.verifyLogFile(file(LOG), () => {
      seen += 1;
      return undefined;
    });
    expect(result.ok).toBe(true);
    expect(seen).toBe(LINES.length);
    expect(open).not.toHaveBeenCalled();
  });

  it('confirms a log with signed checkpoint lines on two threads, and counts them', async () => {
    const { lines: checkedLines, verify } = await built();
    const signer = developmentSigner();
    const { kernel, sink: first } = memoryKernel();
    kernel.syscall({ kind: 'tool.invoke', target: 'bench/lookup', args: { word: 'kernel' } });
    const { step, previous_hash, event_hash, v, ...template } = JSON.parse(
      first.lines[0] as string,
    );
    const sink = new MemorySink();
    const recorder = new FlightRecorder(sink, template.run_id, {
      signer,
      intervalMs: 1_000_000,
      sign: (message) => Promise.resolve(signer.signHex(message)),
    });
    const n = Math.ceil(PARALLEL_MIN_BYTES / 1000);
    for (let i = 0; i < n; i++) {
      recorder.append({ ...template, ts: new Date(1_800_000_000_000 + i).toISOString() });
      if (i % 5000 === 4999) await recorder.checkpoint();
    }
    recorder.seal(signer, 'agentk-agent', '2027-01-01T00:00:00.000Z');
    // The worker passes a checkpoint line on its form (the chain decides the rest).
    const checkpoint = sink.lines.find((line) => line.startsWith('{"checkpoint":')) as string;
    expect(lineIntact(Buffer.from(checkpoint.trimEnd()))).toBe(true);
    expect(lineIntact(Buffer.from(checkpoint.trimEnd().replace('":', '": ')))).toBe(false);
    const open = vi.spyOn(checkedLines.CheckedLines, 'open');
    const result = verify.verifyLogFile(file(sink.text()));
    if (availableParallelism() >= 2)
      expect(open).toHaveReturnedWith(expect.any(checkedLines.CheckedLines));
    expect(result).toMatchObject({ ok: true, events: n, checkpoints: Math.floor(n / 5000) });
  });
});

describe('without the compiled worker (running from src/)', () => {
  it('has no worker, and verifies the same large log the exact way', () => {
    expect(CheckedLines.open(file(LOG))).toBeNull();
    expect(verifyLogFile(file(LOG))).toMatchObject({ ok: true, events: LINES.length - 1 });
  });
});
