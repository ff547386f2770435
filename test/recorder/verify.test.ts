import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demoSteps } from '../../src/demo/poisoned-page.js';
import { verifyLogFile, verifyLogText } from '../../src/recorder/verify.js';
import { StaticSecretStore } from '../../src/secrets/store.js';
import { memoryKernel } from '../helpers/kernel.js';

/** A real, sealed log: the demo's syscalls through the default policy. */
function sealedLog(): string {
  const { kernel, sink } = memoryKernel({
    secretStores: [new StaticSecretStore({ 'secret://ssh/id_rsa': 'dummy' })],
  });
  for (const step of demoSteps()) kernel.syscall(step);
  kernel.close();
  return sink.text();
}

const LOG = sealedLog();
const LINES = LOG.split('\n').slice(0, -1);
const lineStarts = LINES.reduce<number[]>((starts, _line, i) => {
  starts.push(i === 0 ? 0 : (starts[i - 1] as number) + (LINES[i - 1] as string).length + 1);
  return starts;
}, []);
/** 1-based line holding byte offset `offset` of LOG (ASCII-only log). */
function lineOf(offset: number): number {
  let line = 0;
  while (line + 1 < lineStarts.length && (lineStarts[line + 1] as number) <= offset) line += 1;
  return line + 1;
}

describe('verifyLogText', () => {
  it('accepts the intact sealed log with its count and head', () => {
    const result = verifyLogText(LOG);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.events).toBe(LINES.length - 1);
    expect(result.headHash).toBe(JSON.parse(LINES[LINES.length - 2] as string).event_hash);
    expect(result.seal.seal.event_count).toBe(result.events);
  });

  it('is ASCII, so byte offsets and string offsets agree in these tests', () => {
    expect(Buffer.byteLength(LOG)).toBe(LOG.length);
  });

  it('catches any changed byte at the line that holds it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: LOG.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (offset, delta) => {
          const bytes = Buffer.from(LOG);
          bytes[offset] = ((bytes[offset] as number) + delta) % 256;
          const result = verifyLogText(bytes.toString('latin1'));
          // The trailing newline of the last line: a changed byte there tears the tail.
          return !result.ok && result.code !== 'unsealed' && result.line === lineOf(offset);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('catches a deleted line at its position (or, for the seal, as unsealed)', () => {
    LINES.forEach((_, index) => {
      const lines = LINES.filter((__, i) => i !== index);
      const result = verifyLogText(`${lines.join('\n')}\n`);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      if (index === LINES.length - 1) expect(result.code).toBe('unsealed');
      else {
        expect(result.line).toBe(index + 1);
        expect(['step-mismatch', 'chain-broken', 'seal-mismatch']).toContain(result.code);
      }
    });
  });

  it('catches two swapped lines at the first of them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LINES.length - 2 }), (index) => {
        const lines = [...LINES];
        [lines[index], lines[index + 1]] = [lines[index + 1] as string, lines[index] as string];
        const result = verifyLogText(`${lines.join('\n')}\n`);
        return !result.ok && result.line === index + 1;
      }),
    );
  });

  it('catches an inserted line (a copy of another) at its position', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: LINES.length }),
        fc.integer({ min: 0, max: LINES.length - 1 }),
        (at, copyOf) => {
          const lines = [...LINES];
          lines.splice(at, 0, LINES[copyOf] as string);
          const result = verifyLogText(`${lines.join('\n')}\n`);
          // A copy placed right before its original is the original; the line after it is not.
          const expected = copyOf === at ? at + 2 : at + 1;
          return !result.ok && result.line === expected;
        },
      ),
    );
  });

  it('reports truncation at a line boundary as unsealed, and mid-line as a torn tail', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: LOG.length - 1 }), (cut) => {
        const result = verifyLogText(LOG.slice(0, cut));
        if (result.ok) return false;
        const atBoundary = LOG[cut - 1] === '\n';
        if (atBoundary) return result.code === 'unsealed' && result.line === lineOf(cut);
        return result.code === 'torn-tail' && result.line === lineOf(cut - 1);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a line appended after the seal', () => {
    const result = verifyLogText(`${LOG}${LINES[0]}\n`);
    expect(result.ok).toBe(false);
    if (!result.ok) expect([result.code, result.line]).toEqual(['after-seal', LINES.length + 1]);
  });

  it('rejects a re-encoded line even when its content is unchanged', () => {
    const lines = [...LINES];
    lines[2] = JSON.stringify(JSON.parse(lines[2] as string), null, 1).replace(/\n/g, ' ');
    const result = verifyLogText(`${lines.join('\n')}\n`);
    expect(result.ok).toBe(false);
    if (!result.ok) expect([result.code, result.line]).toEqual(['not-canonical', 3]);
  });

  it('rejects a seal whose signature does not verify', () => {
    const seal = JSON.parse(LINES[LINES.length - 1] as string);
    seal.seal.signature = 'ab'.repeat(64);
    const lines = [...LINES.slice(0, -1), JSON.stringify(seal)];
    const result = verifyLogText(`${lines.join('\n')}\n`);
    expect(result.ok).toBe(false);
  });

  it('calls an empty log empty, not valid', () => {
    const result = verifyLogText('');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.code).toBe('empty');
  });
});

describe('verifyLogFile', () => {
  it('streams a file to the same verdict as the text verifier', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-verify-'));
    const path = join(dir, 'log.jsonl');
    writeFileSync(path, LOG);
    const result = verifyLogFile(path);
    expect(result.ok).toBe(true);
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, LOG.slice(0, LOG.length - 20));
    const torn = verifyLogFile(cut);
    expect(torn.ok).toBe(false);
    if (!torn.ok) expect([torn.code, torn.line]).toEqual(['torn-tail', LINES.length]);
  });

  it('stops a line without newlines at the size cap instead of buffering it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-verify-'));
    const path = join(dir, 'huge.jsonl');
    writeFileSync(path, Buffer.alloc(17 * 1024 * 1024, 0x61));
    const result = verifyLogFile(path);
    expect(result.ok).toBe(false);
    if (!result.ok) expect([result.code, result.line]).toEqual(['line-too-long', 1]);
  });
});

describe('review findings: bytes the verifier used to miss', () => {
  it('catches a byte-order mark inserted at the start of a line', () => {
    const lines = LOG.split('\n');
    lines[4] = `\ufeff${lines[4]}`;
    const result = verifyLogText(lines.join('\n'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.line).toBe(5);
  });

  it('refuses unexpected fields on the seal line and a seal whose agent differs', async () => {
    const { parseLog, rechain } = await import('../helpers/forge.js');
    const events = parseLog(LOG);
    const withNote = structuredClone(events);
    withNote[withNote.length - 1].note = 'approved by the security team';
    const noted = verifyLogText(rechain(withNote));
    expect(noted.ok).toBe(false);
    if (!noted.ok)
      expect([noted.code, noted.detail]).toEqual(['bad-shape', 'event has an unexpected field']);
    const otherAgent = structuredClone(events);
    otherAgent[otherAgent.length - 1].agent_id = 'someone-else';
    const moved = verifyLogText(rechain(otherAgent));
    expect(moved.ok).toBe(false);
    if (!moved.ok) expect(moved.code).toBe('seal-mismatch');
  });

  it('refuses malformed inputs so that review tools never meet them', async () => {
    const { parseLog, rechain } = await import('../helpers/forge.js');
    const events = parseLog(LOG);
    events[0].syscall.inputs = [null];
    const result = verifyLogText(rechain(events));
    expect(result.ok).toBe(false);
    if (!result.ok) expect([result.code, result.line]).toEqual(['bad-shape', 1]);
  });
});
