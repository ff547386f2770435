import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEd25519PublicKey, signerFromSeedHex, verifyEd25519 } from '../../src/crypto/index.js';
import { AgentkError } from '../../src/errors.js';
import { DEVELOPMENT_SEED_HEX, loadSigner } from '../../src/evidence/keys.js';

// RFC 8032, section 7.1, TEST 1.
const RFC_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

const dir = mkdtempSync(join(tmpdir(), 'agentk-keys-'));
function keyFile(content: string): string {
  const path = join(dir, `key-${Math.random().toString(16).slice(2)}`);
  writeFileSync(path, content);
  chmodSync(path, 0o600);
  return path;
}

function failure(env: Record<string, string>): AgentkError {
  try {
    loadSigner(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AgentkError);
    return error as AgentkError;
  }
  throw new Error('expected loadSigner to throw');
}

describe('Ed25519', () => {
  it('matches the RFC 8032 test vector', () => {
    const signer = signerFromSeedHex(RFC_SEED, 'environment');
    expect(signer.publicKey).toBe(RFC_PUBLIC);
    expect(signer.signHex(new Uint8Array())).toBe(RFC_SIGNATURE);
    expect(verifyEd25519(RFC_PUBLIC, new Uint8Array(), RFC_SIGNATURE)).toBe(true);
  });

  it('returns false, never throws, for malformed keys and signatures', () => {
    const bad: unknown[] = [undefined, null, 7, '', 'zz', 'ab'.repeat(31), 'AB'.repeat(32), {}, []];
    for (const key of bad) expect(verifyEd25519(key, 'm', RFC_SIGNATURE)).toBe(false);
    for (const sig of bad) expect(verifyEd25519(RFC_PUBLIC, 'm', sig)).toBe(false);
    expect(verifyEd25519(RFC_PUBLIC, 'x', RFC_SIGNATURE)).toBe(false);
    // A point that is not on the curve.
    expect(verifyEd25519('ff'.repeat(32), new Uint8Array(), RFC_SIGNATURE)).toBe(false);
  });

  it('keeps the seed out of inspection and JSON', () => {
    const signer = signerFromSeedHex(RFC_SEED, 'file');
    expect(JSON.stringify(signer)).not.toContain(RFC_SEED);
    expect(String(Object.values(signer))).not.toContain(RFC_SEED);
  });
});

describe('loadSigner', () => {
  it('prefers AGENTK_SIGNING_KEY_HEX, then the key file, then the development key', () => {
    const file = keyFile(`${'11'.repeat(32)}\n`);
    expect(
      loadSigner({ AGENTK_SIGNING_KEY_HEX: RFC_SEED, AGENTK_SIGNING_KEY_FILE: file }),
    ).toMatchObject({
      source: 'environment',
      publicKey: RFC_PUBLIC,
    });
    expect(loadSigner({ AGENTK_SIGNING_KEY_FILE: file }).source).toBe('file');
    const development = loadSigner({});
    expect(development.source).toBe('development');
    expect(development.publicKey).toBe(
      signerFromSeedHex(DEVELOPMENT_SEED_HEX, 'development').publicKey,
    );
  });

  it('rejects a malformed hex key without echoing it, never falling back', () => {
    const error = failure({ AGENTK_SIGNING_KEY_HEX: 'not-a-key-SECRETISH' });
    expect(error.code).toBe('KEY_MALFORMED');
    expect(error.message).toMatch(/AGENTK_SIGNING_KEY_HEX is not a 32-byte Ed25519 seed/);
    expect(error.message).not.toContain('SECRETISH');
    expect(failure({ AGENTK_SIGNING_KEY_HEX: 'ab'.repeat(31) }).code).toBe('KEY_MALFORMED');
  });

  it('rejects a malformed key file, naming the file but not its content', () => {
    const path = keyFile('SECRETISH-but-not-hex');
    const error = failure({ AGENTK_SIGNING_KEY_FILE: path });
    expect(error.code).toBe('KEY_MALFORMED');
    expect(error.message).toContain(path);
    expect(error.message).not.toContain('SECRETISH');
  });

  it('rejects a missing key file', () => {
    const error = failure({ AGENTK_SIGNING_KEY_FILE: join(dir, 'missing') });
    expect(error.code).toBe('KEY_UNREADABLE');
    expect(error.message).toMatch(/ENOENT/);
  });

  it('rejects an oversized key file', () => {
    expect(failure({ AGENTK_SIGNING_KEY_FILE: keyFile('a'.repeat(5000)) }).code).toBe(
      'KEY_MALFORMED',
    );
  });
});

describe('small-order public keys', () => {
  it('are refused as signers, so a trivial signature verifies nothing', () => {
    const identity = `01${'00'.repeat(31)}`;
    const trivial = `01${'00'.repeat(63)}`;
    for (const message of ['a', 'b', ''])
      expect(verifyEd25519(identity, message, trivial)).toBe(false);
    expect(isEd25519PublicKey(identity)).toBe(false);
    expect(isEd25519PublicKey(`ec${'ff'.repeat(30)}7f`)).toBe(false);
    expect(isEd25519PublicKey(`${'ff'.repeat(31)}7f`)).toBe(false);
    expect(isEd25519PublicKey(RFC_PUBLIC)).toBe(true);
  });
});

describe('the development key', () => {
  it('is reported as development even when configured as a production key', () => {
    expect(loadSigner({ AGENTK_SIGNING_KEY_HEX: DEVELOPMENT_SEED_HEX }).source).toBe('development');
  });
});
