// Signature verification on a second thread, as `agentk verify-signatures` runs it on a
// large log. The worker is a compiled file, so the pool itself is exercised from dist/
// (built before the tests); from src/ (no compiled worker) the exact pass runs alone.
// The pool only confirms: a forged log is decided by the exact pass, which names its line.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDLE_DOMAIN, signatureCheck } from '../../src/crypto/signing.js';
import { SignaturePool } from '../../src/evidence/signature-pool.js';
import { verifySignaturesFile } from '../../src/evidence/verify-signatures.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { StaticSecretStore } from '../../src/secrets/store.js';
import { type Json, parseLog, rechain } from '../helpers/forge.js';
import { memoryKernel } from '../helpers/kernel.js';

const DIST = join(PACKAGE_ROOT, 'dist', 'evidence');
type Built = {
  pool: typeof import('../../src/evidence/signature-pool.js');
  verify: typeof import('../../src/evidence/verify-signatures.js');
};
const built = async (): Promise<Built> => ({
  pool: await import(join(DIST, 'signature-pool.js')),
  verify: await import(join(DIST, 'verify-signatures.js')),
});

/** A sealed log of `n` secret.open events, each with a signed handle (over 2 MiB). */
function bigLog(n: number): string {
  const { kernel, sink } = memoryKernel({
    secretStores: [new StaticSecretStore({ 'secret://ssh/id_rsa': 'dummy' })],
  });
  for (let i = 0; i < n; i++) {
    const opened = kernel.syscall({ kind: 'secret.open', target: 'secret://ssh/id_rsa' });
    if (!opened.secretHandle) throw new Error('the policy should open the secret');
  }
  kernel.close();
  return sink.text();
}

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'agentk-pool-')), 'log.jsonl');
  writeFileSync(path, text);
  return path;
}

const LOG = bigLog(2000);

describe('the signature pool (compiled)', () => {
  it('confirms good signatures and refuses to confirm a bad or malformed one', async () => {
    const { SignaturePool: Pool } = (await built()).pool;
    const record = JSON.parse(LOG.split('\n')[0] as string).decision.secret_handle as Json;
    const good = signatureCheck(HANDLE_DOMAIN, record);
    if (good === null) throw new Error('the handle should be well formed');
    const confirm = (checks: (typeof good)[]) => {
      const pool = Pool.start();
      expect(pool, 'the compiled worker starts').not.toBeNull();
      for (const check of checks) pool?.add(check);
      return pool?.finish();
    };
    // 6,000 checks: more batches than the queue holds, so the main thread verifies some.
    expect(confirm(Array.from({ length: 6000 }, () => good))).toBe(true);
    expect(confirm([])).toBe(true);
    const forged = { ...good, message: `${good.message} ` };
    // In the first batch (the worker's), in the last (verified here), and anywhere in a
    // long run (whichever thread takes its batch).
    expect(confirm([forged, ...Array.from({ length: 300 }, () => good)])).toBe(false);
    expect(confirm([...Array.from({ length: 300 }, () => good), forged, good])).toBe(false);
    for (const at of [1000, 3000, 5000]) {
      const checks = Array.from({ length: 6000 }, () => good);
      checks[at] = forged;
      expect(confirm(checks)).toBe(false);
    }
    expect(confirm([{ ...good, signature: 7 }])).toBe(false);
  });

  it('decides a large intact log on two threads, and a forged one the exact way, at its line', async () => {
    const { verify } = await built();
    expect(LOG.length).toBeGreaterThan(2 * 1024 * 1024);
    const intact = verify.verifySignaturesFile(file(LOG));
    expect(intact.threads).toBe(2);
    expect(intact.chain.ok).toBe(true);
    expect(intact.report).toMatchObject({ receipts: 2000, handles: 2000, seals: 1 });

    const events = parseLog(LOG);
    const handle = events[1499].decision.secret_handle;
    const last = handle.signature.at(-1) === '0' ? '1' : '0';
    handle.signature = `${handle.signature.slice(0, 127)}${last}`;
    const forged = verify.verifySignaturesFile(file(rechain(events)));
    expect(forged.threads).toBe(1);
    expect(forged.chain).toMatchObject({ ok: false, code: 'handle-signature', line: 1500 });
  });
});

describe('without the compiled worker (running from src/)', () => {
  it('has no pool, and verifies the same large log the exact way', () => {
    expect(SignaturePool.start()).toBeNull();
    const result = verifySignaturesFile(file(LOG));
    expect(result.threads).toBe(1);
    expect(result.chain.ok).toBe(true);
    expect(result.report.receipts).toBe(2000);
  });
});
