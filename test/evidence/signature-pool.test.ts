// Signature verification on a second thread, as `agentk verify-signatures` runs it on a
// large log: the compiled pool (the worker is a built file, so these use dist/ and the
// real bin) confirms only a log whose every signature verifies; a forged one is decided
// by the exact single-threaded pass, which names its line.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECEIPT_DOMAIN, signatureCheck } from '../../src/evidence/signing.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { type Json, parseLog, rechain } from '../helpers/forge.js';
import { memoryKernel } from '../helpers/kernel.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');
const POOL = join(PACKAGE_ROOT, 'dist', 'evidence', 'signature-pool.js');

/** A sealed log of `n` receipt-bearing events, well over the 2 MiB parallel threshold. */
function bigLog(n: number): string {
  const { kernel, sink } = memoryKernel();
  for (let i = 0; i < n; i++) {
    kernel.syscall({ kind: 'context.read', target: 'user:task', content: `page ${i}` });
  }
  kernel.close();
  return sink.text();
}

function verifySignatures(text: string) {
  const path = join(mkdtempSync(join(tmpdir(), 'agentk-pool-')), 'log.jsonl');
  writeFileSync(path, text);
  const ran = spawnSync(process.execPath, [BIN, 'verify-signatures', path, '--json'], {
    encoding: 'utf8',
  });
  return { code: ran.status, report: JSON.parse(ran.stdout) as Json };
}

describe('the signature pool', () => {
  it('confirms good signatures and refuses to confirm a bad or malformed one', async () => {
    const { SignaturePool } = (await import(
      POOL
    )) as typeof import('../../src/evidence/signature-pool.js');
    const record = JSON.parse(bigLog(1).split('\n')[0] as string).decision.receipt as Json;
    const good = signatureCheck(RECEIPT_DOMAIN, record);
    if (good === null) throw new Error('the receipt should be well formed');
    const confirm = (checks: (typeof good)[]) => {
      const pool = SignaturePool.start();
      expect(pool, 'the compiled worker starts').not.toBeNull();
      for (const check of checks) pool?.add(check);
      return pool?.finish();
    };
    expect(confirm(Array.from({ length: 600 }, () => good))).toBe(true);
    const forged = { ...good, message: `${good.message} ` };
    expect(confirm([...Array.from({ length: 300 }, () => good), forged, good])).toBe(false);
    expect(confirm([{ ...good, signature: 7 }])).toBe(false);
  });

  it('verifies a large intact log, and a forged receipt in it fails at its own line', () => {
    const text = bigLog(2000);
    expect(text.length).toBeGreaterThan(2 * 1024 * 1024);
    const intact = verifySignatures(text);
    expect(intact.code).toBe(0);
    expect(intact.report).toMatchObject({ ok: true, receipts: 2000, seals: 1 });

    const events = parseLog(text);
    const receipt = events[1499].decision.receipt;
    receipt.signature = `${receipt.signature.slice(0, 127)}${receipt.signature.endsWith('0') ? '1' : '0'}`;
    const forged = verifySignatures(rechain(events));
    expect(forged.code).toBe(1);
    expect(forged.report).toMatchObject({
      ok: false,
      status: 'failed',
      code: 'receipt-signature',
      line: 1500,
    });
  });
});
