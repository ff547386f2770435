// Signed checkpoints of the chain (format 2): the recorder writes one at most per interval
// and soon after the log goes idle; the verifier checks each against the chain so far,
// and verify-signatures says which events no signature covers.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { canonicalize } from '../../src/crypto/canonical.js';
import { signerFromSeedHex } from '../../src/crypto/index.js';
import { developmentSigner } from '../../src/evidence/keys.js';
import { verifySignaturesText } from '../../src/evidence/verify-signatures.js';
import type { UnchainedEvent } from '../../src/recorder/event.js';
import { FlightRecorder } from '../../src/recorder/recorder.js';
import { MemorySink } from '../../src/recorder/sink.js';
import { verifyLogText } from '../../src/recorder/verify.js';
import { runCli } from '../helpers/cli.js';
import { type Json, parseLog, rechain } from '../helpers/forge.js';

const signer = developmentSigner();
const TS = '2026-12-07T12:00:00.000Z';
const RUN = '20261207T120000Z-checkpt';

function event(i: number): UnchainedEvent {
  return {
    type: 'syscall',
    ts: TS,
    run_id: RUN,
    agent_id: 'agent',
    syscall: {
      kind: 'context.read',
      target: `user:page-${i}`,
      intent: '',
      labels: ['trusted'],
      control_labels: [],
      inputs: [],
      capability: `context.read:user:page-${i}`,
      sinks: ['read'],
    },
    decision: {
      verdict: 'deny',
      effect: 'deny',
      rule: 'deny-test',
      reason: 'a denial carries no receipt',
      missing_capability: null,
      receipt: null,
      secret_handle: null,
      request_hash: '0'.repeat(64),
    },
  };
}

/** A recorder whose signatures come back when the test says (in order). */
function recorder(intervalMs = 5) {
  const sink = new MemorySink();
  const pending: (() => void)[] = [];
  const rec = new FlightRecorder(sink, RUN, {
    signer,
    intervalMs,
    clock: () => Date.parse(TS),
    sign: (message) =>
      new Promise((resolve) => pending.push(() => resolve(signer.signHex(message)))),
  });
  const answer = async () => {
    const next = pending.shift();
    if (!next) throw new Error('no checkpoint is being signed');
    next();
    // The signature's continuation writes the line: let it run.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { rec, sink, pending, answer };
}

const checkpointLines = (sink: MemorySink) =>
  parseLog(sink.text()).filter((line: Json) => line.type === 'checkpoint');

afterEach(() => {
  vi.useRealTimers();
});

describe('the recorder', () => {
  it('signs at most one checkpoint per interval, and one after the log goes idle', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { rec, sink, pending, answer } = recorder(5);
    for (let i = 0; i < 100; i++) rec.append(event(i));
    vi.advanceTimersByTime(4);
    expect(pending).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(pending).toHaveLength(1);
    // More events while it is being signed: no second signature in flight.
    for (let i = 100; i < 150; i++) rec.append(event(i));
    vi.advanceTimersByTime(50);
    expect(pending).toHaveLength(1);
    await answer();
    expect(checkpointLines(sink).map((line: Json) => line.checkpoint.event_count)).toEqual([100]);
    // The 50 events appended meanwhile get the next one, one interval later.
    vi.advanceTimersByTime(5);
    await answer();
    expect(checkpointLines(sink).map((line: Json) => line.checkpoint.event_count)).toEqual([
      100, 150,
    ]);
    // Idle: nothing more to cover, nothing more signed.
    vi.advanceTimersByTime(1_000);
    expect(pending).toHaveLength(0);
    rec.seal(signer, 'agent', TS);
    const chain = verifyLogText(sink.text());
    expect(chain).toMatchObject({ ok: true, events: 150, checkpoints: 2, version: 2 });
  });

  it('while the log stays busy, signs one every busy interval; once it is quiet, one an interval after its last event', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { rec, sink, pending, answer } = recorder(5);
    // An event every millisecond: never quiet for 5 ms.
    let appended = 0;
    const busyFor = (ms: number) => {
      for (let t = 0; t < ms; t++) {
        rec.append(event(appended++));
        vi.advanceTimersByTime(1);
      }
    };
    busyFor(24);
    expect(pending).toHaveLength(0);
    busyFor(1);
    expect(pending).toHaveLength(1);
    await answer();
    // The first 25 events; the next one came after the signature was asked for.
    expect(checkpointLines(sink).map((line: Json) => line.checkpoint.event_count)).toEqual([25]);
    // The next busy interval counts from the first event it would cover.
    busyFor(24);
    expect(pending).toHaveLength(0);
    busyFor(1);
    expect(pending).toHaveLength(1);
    await answer();
    // Quiet: the events since are covered an interval after the last one, not later.
    rec.append(event(appended++));
    vi.advanceTimersByTime(4);
    expect(pending).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(pending).toHaveLength(1);
    await answer();
    expect(checkpointLines(sink).map((line: Json) => line.checkpoint.event_count)).toEqual([
      25, 50, 51,
    ]);
    rec.seal(signer, 'agent', TS);
    expect(verifyLogText(sink.text())).toMatchObject({ ok: true, events: 51, checkpoints: 3 });
  });

  it('writes a checkpoint that comes back behind the head, covering the point it signed', async () => {
    const { rec, sink, answer } = recorder();
    for (let i = 0; i < 3; i++) rec.append(event(i));
    const done = rec.checkpoint();
    for (let i = 3; i < 7; i++) rec.append(event(i));
    await answer();
    await done;
    expect(rec.checkpointed).toBe(3);
    rec.close(); // a crash: no seal
    const chain = verifyLogText(sink.text());
    expect(chain).toMatchObject({ ok: false, code: 'unsealed', events: 7, covered: 3 });
  });

  it('signs nothing in a batch whose lines are not yet written; the next checkpoint covers them', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { rec, sink, pending, answer } = recorder(5);
    rec.batch(() => {
      rec.append(event(0));
      void rec.checkpoint();
      expect(pending).toHaveLength(0);
    });
    vi.advanceTimersByTime(5);
    await answer();
    expect(checkpointLines(sink).map((line: Json) => line.checkpoint.event_count)).toEqual([1]);
  });

  it('drops a signature that comes back after the log was sealed', async () => {
    const { rec, sink, answer } = recorder();
    rec.append(event(0));
    const done = rec.checkpoint();
    rec.seal(signer, 'agent', TS);
    await answer();
    await done;
    expect(checkpointLines(sink)).toHaveLength(0);
    expect(verifyLogText(sink.text()).ok).toBe(true);
  });
});

/** A sealed log with a checkpoint after event 2 and one after event 4, as parsed lines. */
async function checkpointedLog(): Promise<Json[]> {
  const { rec, sink, answer } = recorder();
  for (let i = 0; i < 5; i++) {
    rec.append(event(i));
    if (i === 1 || i === 3) {
      const done = rec.checkpoint();
      await answer();
      await done;
    }
  }
  rec.seal(signer, 'agent', TS);
  return parseLog(sink.text());
}

const text = (lines: Json[]) => `${lines.map((line) => canonicalize(line)).join('\n')}\n`;

describe('the verifier', () => {
  it('checks every checkpoint against the chain and its signature', async () => {
    const lines = await checkpointedLog();
    expect(lines.map((line: Json) => line.type)).toEqual([
      'syscall',
      'syscall',
      'checkpoint',
      'syscall',
      'syscall',
      'checkpoint',
      'syscall',
      'seal',
    ]);
    expect(verifyLogText(text(lines))).toMatchObject({ ok: true, events: 5, checkpoints: 2 });
    const { chain, report } = verifySignaturesText(text(lines));
    expect(chain.ok).toBe(true);
    expect(report).toMatchObject({ checkpoints: 2, seals: 1 });
    expect(report.signers[0]?.signatures).toBe(3);
  });

  it('fails a checkpoint whose head, count, signature, run or bytes were changed', async () => {
    const lines = await checkpointedLog();
    const failing = (edit: (copy: Json[]) => void) => {
      const copy = structuredClone(lines);
      edit(copy);
      const result = verifyLogText(text(copy));
      if (result.ok) throw new Error('the edited log should fail');
      return [result.code, result.line];
    };
    expect(failing((copy) => (copy[2].checkpoint.head_hash = copy[0].event_hash))).toEqual([
      'checkpoint-mismatch',
      3,
    ]);
    expect(failing((copy) => (copy[2].checkpoint.event_count = 1))).toEqual([
      'checkpoint-mismatch',
      3,
    ]);
    expect(failing((copy) => (copy[5].checkpoint.event_count = 9))).toEqual([
      'checkpoint-mismatch',
      6,
    ]);
    expect(failing((copy) => (copy[2].checkpoint.run_id = 'another'))).toEqual([
      'checkpoint-mismatch',
      3,
    ]);
    const signature: string = lines[2].checkpoint.signature;
    const flipped = `${signature[0] === 'a' ? 'b' : 'a'}${signature.slice(1)}`;
    expect(failing((copy) => (copy[2].checkpoint.signature = flipped))).toEqual([
      'checkpoint-signature',
      3,
    ]);
    // The same checkpoint twice: the second covers nothing new.
    expect(failing((copy) => copy.splice(3, 0, copy[2]))).toEqual(['checkpoint-mismatch', 4]);
    const spaced = text(lines).replace('{"checkpoint":{', '{"checkpoint": {');
    const result = verifyLogText(spaced);
    expect(result.ok ? null : [result.code, result.line]).toEqual(['not-canonical', 3]);
  });

  it('refuses a checkpoint in a format 1 log, and mixed formats', async () => {
    const lines = await checkpointedLog();
    const v1 = lines.map((line: Json) => ({ ...line, v: 1 }));
    const result = verifyLogText(rechain(v1));
    expect(result.ok ? null : [result.code, result.detail]).toEqual([
      'bad-shape',
      'a checkpoint in a format 1 log',
    ]);
    const mixed = structuredClone(lines);
    mixed[3].v = 1;
    const second = verifyLogText(rechain(mixed));
    expect(second.ok ? null : [second.code, second.line]).toEqual(['bad-shape', 4]);
  });

  it('fails a checkpoint signed by a second key (one run has one signer)', async () => {
    const lines = await checkpointedLog();
    const other = signerFromSeedHex('09'.repeat(32), 'file');
    const { signature: _s, ...fields } = lines[5].checkpoint;
    const { signRecord, CHECKPOINT_DOMAIN } = await import('../../src/crypto/signing.js');
    const copy = structuredClone(lines);
    copy[5].checkpoint = signRecord(other, CHECKPOINT_DOMAIN, {
      ...fields,
      public_key: other.publicKey,
      key_source: 'file',
    });
    const { chain } = verifySignaturesText(text(copy));
    expect(chain.ok ? null : [chain.code, chain.line]).toEqual(['signer-changed', 6]);
  });
});

describe('agentk verify and verify-signatures on a log a crash cut short', () => {
  it('name the events no checkpoint covers', async () => {
    const lines = (await checkpointedLog()).slice(0, -1); // no seal
    const path = join(mkdtempSync(join(tmpdir(), 'agentk-checkpoints-')), 'trace.jsonl');
    writeFileSync(path, text(lines));
    const verify = await runCli(['verify', path]);
    expect(verify.code).toBe(3);
    expect(verify.stdout).toContain('5 events intact (4 covered by a signed checkpoint)');
    const signatures = await runCli(['verify-signatures', path]);
    expect(signatures.code).toBe(3);
    expect(signatures.stdout).toContain(
      'event 5 covered by no checkpoint: hash-chained but signed by nothing',
    );
    expect(signatures.stdout).toContain('2 checkpoints');
  });
});
