import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signerFromSeedHex } from '../../src/crypto/index.js';
import { HANDLE_DOMAIN, RECEIPT_DOMAIN, signRecord } from '../../src/crypto/signing.js';
import { demoSteps } from '../../src/demo/poisoned-page.js';
import { developmentSigner } from '../../src/evidence/keys.js';
import { TrustPins } from '../../src/evidence/trust.js';
import { verifySignaturesText } from '../../src/evidence/verify-signatures.js';
import type { SyscallResult } from '../../src/kernel/types.js';
import { verifyLogText } from '../../src/recorder/verify.js';
import { StaticSecretStore } from '../../src/secrets/store.js';
import { runCli } from '../helpers/cli.js';
import { type Json, parseLog, rechain } from '../helpers/forge.js';
import { memoryKernel } from '../helpers/kernel.js';

function demoLog(signer = developmentSigner()): string {
  const { kernel, sink } = memoryKernel({
    signer,
    secretStores: [new StaticSecretStore({ 'secret://ssh/id_rsa': 'dummy' })],
  });
  const results: SyscallResult[] = [];
  for (const step of demoSteps()) {
    const handle = results.find((r) => r.secretHandle)?.secretHandle?.id;
    results.push(
      kernel.syscall(step.kind === 'network.send' && handle ? { ...step, body: handle } : step),
    );
  }
  kernel.close();
  return sink.text();
}

const LOG = demoLog();
const EVENTS = parseLog(LOG);
const allowedIndexes = EVENTS.flatMap((e: Json, i: number) =>
  e.decision?.verdict === 'allow' ? [i] : [],
);
const openIndex = EVENTS.findIndex((e: Json) => e.syscall?.kind === 'secret.open');
const dev = developmentSigner();
const other = signerFromSeedHex('07'.repeat(32), 'file');

function failure(text: string, pins?: TrustPins) {
  expect(verifyLogText(text).ok, 'the forged log must still pass the chain check').toBe(true);
  const { chain } = verifySignaturesText(text, pins);
  expect(chain.ok).toBe(false);
  if (chain.ok) throw new Error('unreachable');
  return chain;
}

function edited(edit: (events: Json[]) => void): string {
  const events = structuredClone(EVENTS);
  edit(events);
  return rechain(events);
}

describe('verifySignaturesText', () => {
  it('counts receipts, handles and seals of an intact log and names its signer by fingerprint', () => {
    const { chain, report } = verifySignaturesText(LOG);
    expect(chain.ok).toBe(true);
    expect(report).toMatchObject({ receipts: allowedIndexes.length, handles: 1, seals: 1 });
    // Receipts are covered by the seal (format 2): the handle and the seal are signed.
    expect(report.signers).toEqual([
      { fingerprint: dev.fingerprint, keySources: ['development'], signatures: 2 },
    ]);
  });

  it('accepts the log with the signer pinned', () => {
    const pins = new TrustPins();
    pins.add(dev.publicKey, 'dev');
    const { chain, report } = verifySignaturesText(LOG, pins);
    expect(chain.ok).toBe(true);
    expect(report.signers[0]?.label).toBe('dev');
  });

  it('refuses a receipt that carries fields of its own beyond its binding', () => {
    const at = allowedIndexes[1] as number;
    const chain = failure(
      edited((events) => {
        events[at].decision.receipt.signature = 'ab'.repeat(64);
      }),
    );
    expect([chain.code, chain.line]).toEqual(['receipt-shape', at + 1]);
  });

  it('catches receipts swapped between two events', () => {
    const [a, b] = allowedIndexes as [number, number];
    const chain = failure(
      edited((events) => {
        [events[a].decision.receipt, events[b].decision.receipt] = [
          events[b].decision.receipt,
          events[a].decision.receipt,
        ];
      }),
    );
    expect([chain.code, chain.line]).toEqual(['receipt-binding', a + 1]);
    expect(chain.detail).toMatch(/swapped, copied or altered/);
  });

  it('catches a receipt altered for another target, the log re-sealed by a key the attacker holds', () => {
    const at = allowedIndexes[0] as number;
    const chain = failure(
      edited((events) => {
        events[at].decision.receipt.target = 'other';
      }),
    );
    expect(chain.code).toBe('receipt-binding');
    expect(chain.detail).toMatch(/receipt target is "other"/);
  });

  it('catches a reused receipt id', () => {
    const [a, b] = allowedIndexes as [number, number];
    const chain = failure(
      edited((events) => {
        events[b].decision.receipt.id = events[a].decision.receipt.id;
      }),
    );
    expect([chain.code, chain.line]).toEqual(['receipt-reused', b + 1]);
  });

  it('catches an allowed syscall without a receipt, and a denial with one', () => {
    const at = allowedIndexes[0] as number;
    expect(failure(edited((events) => (events[at].decision.receipt = null))).code).toBe(
      'receipt-missing',
    );
    const denied = EVENTS.findIndex((e: Json) => e.decision?.verdict === 'deny');
    const chain = failure(
      edited((events) => {
        events[denied].decision.receipt = events[at].decision.receipt;
      }),
    );
    expect([chain.code, chain.line]).toEqual(['receipt-unexpected', denied + 1]);
  });

  it('accepts observations (a descriptor, an answer) without receipts, but no action without one', () => {
    const { kernel, sink } = memoryKernel();
    kernel.syscall({
      kind: 'tool.describe',
      target: 'fs/read_file',
      descriptor: { name: 'read_file', description: 'Read a file.' },
    });
    kernel.syscall({ kind: 'tool.invoke', target: 'fs/read_file', args: { path: 'a' } });
    kernel.syscall({
      kind: 'tool.response',
      target: 'fs/read_file',
      content: [{ type: 'text', text: 'hello' }],
    });
    kernel.close();
    const { chain, report } = verifySignaturesText(sink.text());
    expect(chain.ok).toBe(true);
    expect(report.receipts).toBe(1);
    const events = parseLog(sink.text());
    const invoke = events.findIndex((e: Json) => e.syscall?.kind === 'tool.invoke');
    const stripped = structuredClone(events);
    stripped[invoke].decision.receipt = null;
    const broken = failure(rechain(stripped));
    expect([broken.code, broken.line]).toEqual(['receipt-missing', invoke + 1]);
  });

  it('catches a receipt that expired before it was used', () => {
    const at = allowedIndexes[0] as number;
    const chain = failure(
      edited((events) => {
        events[at].decision.receipt.expires_at = '2000-01-01T00:00:00.000Z';
      }),
    );
    expect(chain.code).toBe('receipt-expired');
  });

  it('refuses any algorithm but Ed25519', () => {
    const chain = failure(
      edited((events) => (events[openIndex].decision.secret_handle.alg = 'HS256')),
    );
    expect(chain.code).toBe('algorithm');
    expect(chain.detail).toMatch(/only Ed25519 is accepted/);
  });

  it('catches a handle bound to another receipt', () => {
    const chain = failure(
      edited((events) => {
        const { signature: _s, ...handle } = events[openIndex].decision.secret_handle;
        events[openIndex].decision.secret_handle = signRecord(dev, HANDLE_DOMAIN, {
          ...handle,
          receipt_id: events[allowedIndexes[0] as number].decision.receipt.id,
        });
      }),
    );
    expect([chain.code, chain.line]).toEqual(['handle-binding', openIndex + 1]);
    expect(chain.detail).toBe('secret handle is bound to another receipt');
  });

  it('catches an expired handle', () => {
    const chain = failure(
      edited((events) => {
        const { signature: _s, ...handle } = events[openIndex].decision.secret_handle;
        events[openIndex].decision.secret_handle = signRecord(dev, HANDLE_DOMAIN, {
          ...handle,
          expires_at: '2001-01-01T00:00:00.000Z',
        });
      }),
    );
    expect(chain.code).toBe('handle-expired');
  });

  it('catches a forged handle signature and a handle moved off its secret.open', () => {
    const forged = failure(
      edited((events) => {
        events[openIndex].decision.secret_handle.scope = ['*'];
      }),
    );
    expect(forged.code).toBe('handle-signature');
    const moved = failure(
      edited((events) => {
        const at = allowedIndexes[0] as number;
        events[at].decision.secret_handle = events[openIndex].decision.secret_handle;
      }),
    );
    expect(moved.code).toBe('handle-misplaced');
  });

  it('fails on the first signature by a key outside the pins', () => {
    const pins = new TrustPins();
    pins.add(other.publicKey);
    const { chain } = verifySignaturesText(LOG, pins);
    expect(chain.ok).toBe(false);
    if (!chain.ok) {
      // The first signature of the log is the secret handle's.
      expect([chain.code, chain.line]).toEqual(['untrusted-signer', openIndex + 1]);
      expect(chain.detail).toContain(dev.fingerprint);
      expect(chain.detail).not.toContain(dev.publicKey);
    }
  });

  it('fails a seal re-signed by an attacker key when the real key is pinned', () => {
    const log = demoLog(other);
    const events = parseLog(log);
    const forged = rechain(events, dev); // same events, seal re-signed with the public key
    const pins = new TrustPins();
    pins.add(other.publicKey);
    const chain = failure(forged, pins);
    expect([chain.code, chain.line]).toEqual(['untrusted-signer', events.length]);
    expect(chain.detail).toMatch(/^seal signed by/);
  });
});

describe('a run with two signers', () => {
  // A log signed by one key whose tail is edited and re-sealed by another: without pins,
  // both keys are "valid", but one run has one signer.
  const forged = () => {
    const events = parseLog(demoLog(other));
    events[events.length - 2].syscall.intent = 'edited after the fact';
    return { events, text: rechain(events, dev) };
  };

  it('fails, pins or not, at the first record of the second key', () => {
    const { events, text } = forged();
    const chain = failure(text);
    expect([chain.code, chain.line]).toEqual(['signer-changed', events.length]);
    expect(chain.detail).toContain(dev.fingerprint);
    expect(chain.detail).toContain(other.fingerprint);
  });

  it('makes agentk verify-signatures exit 1 with one line naming both keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-two-signers-'));
    const path = join(dir, 'trace.jsonl');
    writeFileSync(path, forged().text);
    const result = await runCli(['verify-signatures', path]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/one run has one signer/);
  });
});

describe('the development key in disguise', () => {
  it('is reported as the development key whatever key_source a record claims', async () => {
    const { DEVELOPMENT_SEED_HEX } = await import('../../src/evidence/keys.js');
    const disguised = signerFromSeedHex(DEVELOPMENT_SEED_HEX, 'environment');
    const { report } = verifySignaturesText(demoLog(disguised));
    expect(report.signers[0]?.keySources).toEqual(['development']);
  });
});

describe('a format 1 log (each receipt signed)', () => {
  const V1 = readFileSync('test/fixtures/demo-log.jsonl', 'utf8');
  const v1Events = parseLog(V1);
  const v1Allowed = v1Events.flatMap((e: Json, i: number) =>
    e.decision?.verdict === 'allow' ? [i] : [],
  );
  const v1Edited = (edit: (events: Json[]) => void) => {
    const events = structuredClone(v1Events);
    edit(events);
    return rechain(events);
  };

  it('still verifies, every receipt by its own signature', () => {
    expect(v1Events[0].v).toBe(1);
    const { chain, report } = verifySignaturesText(V1);
    expect(chain.ok).toBe(true);
    expect(report.receipts).toBe(v1Allowed.length);
    expect(report.signers[0]?.signatures).toBe(v1Allowed.length + 2);
  });

  it('catches a forged receipt signature', () => {
    const at = v1Allowed[1] as number;
    const chain = failure(
      v1Edited((events) => {
        const signature: string = events[at].decision.receipt.signature;
        events[at].decision.receipt.signature =
          `${signature[0] === 'a' ? 'b' : 'a'}${signature.slice(1)}`;
      }),
    );
    expect([chain.code, chain.line]).toEqual(['receipt-signature', at + 1]);
    expect(chain.detail).toMatch(/forged or altered/);
  });

  it('catches a receipt without its signature, and one re-signed for another target', () => {
    const at = v1Allowed[0] as number;
    const unsigned = failure(
      v1Edited((events) => {
        delete events[at].decision.receipt.signature;
      }),
    );
    expect([unsigned.code, unsigned.line]).toEqual(['receipt-shape', at + 1]);
    const resigned = failure(
      v1Edited((events) => {
        const { signature: _s, ...receipt } = events[at].decision.receipt;
        events[at].decision.receipt = signRecord(dev, RECEIPT_DOMAIN, { ...receipt, target: 'x' });
      }),
    );
    expect(resigned.code).toBe('receipt-binding');
  });

  it('refuses a receipt signed with another algorithm', () => {
    const at = v1Allowed[0] as number;
    const chain = failure(v1Edited((events) => (events[at].decision.receipt.alg = 'HS256')));
    expect([chain.code, chain.line]).toEqual(['algorithm', at + 1]);
  });
});
