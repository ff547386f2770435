import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTomlText } from '../../src/config/document.js';
import { signerFromSeedHex } from '../../src/crypto/index.js';
import { AgentkError } from '../../src/errors.js';
import { keyFileProblems, writeNewKeyFile } from '../../src/evidence/keyfile.js';
import { signerFromFile } from '../../src/evidence/keys.js';
import { createRotation, rotationText, verifyRotationText } from '../../src/evidence/rotation.js';
import { parseTrustManifest } from '../../src/evidence/trust.js';

function privateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentk-keys-'));
  chmodSync(dir, 0o700);
  return dir;
}

describe('writeNewKeyFile', () => {
  it('writes a 0600 key that loads, and refuses to overwrite without force', () => {
    const dir = privateDir();
    const path = join(dir, 'key');
    const signer = writeNewKeyFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(signerFromFile(path).publicKey).toBe(signer.publicKey);
    expect(() => writeNewKeyFile(path)).toThrow(/already exists; pass --force/);
    const replaced = writeNewKeyFile(path, true);
    expect(replaced.publicKey).not.toBe(signer.publicKey);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a directory writable by group or others', () => {
    const dir = privateDir();
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    try {
      writeNewKeyFile(join(open, 'key'));
      expect.unreachable();
    } catch (error) {
      expect((error as AgentkError).code).toBe('KEY_UNSAFE');
      expect((error as AgentkError).message).toMatch(/writable by group or others \(mode 0777\)/);
    }
  });
});

describe('keyFileProblems', () => {
  it('reports a key file readable by others, and one in a shared directory', () => {
    const dir = privateDir();
    const path = join(dir, 'key');
    writeNewKeyFile(path);
    expect(keyFileProblems(path)).toEqual([]);
    chmodSync(path, 0o644);
    expect(keyFileProblems(path)).toEqual([
      expect.stringMatching(/accessible by group or others \(mode 0644\)/),
    ]);
    chmodSync(path, 0o600);
    chmodSync(dir, 0o777);
    expect(keyFileProblems(path)).toEqual([expect.stringMatching(/writable by group or others/)]);
  });
});

describe('rotation manifests', () => {
  const previous = signerFromSeedHex('01'.repeat(32), 'file');
  const next = signerFromSeedHex('02'.repeat(32), 'file');
  const text = rotationText(createRotation(previous, next, '2026-11-26T10:00:00.000Z'));

  it('verifies, and holds only public material', () => {
    const result = verifyRotationText(text);
    expect(result.ok).toBe(true);
    expect(text).not.toContain('01'.repeat(32));
    expect(text).not.toContain('02'.repeat(32));
    expect(text).toContain(previous.publicKey);
  });

  it('fails on any single changed byte', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: text.length - 1 }),
        fc.integer({ min: 1, max: 94 }),
        (at, delta) => {
          const code = text.charCodeAt(at);
          const changed = String.fromCharCode(32 + ((code - 32 + delta) % 95));
          if (changed === text[at]) return true;
          return !verifyRotationText(text.slice(0, at) + changed + text.slice(at + 1)).ok;
        },
      ),
      { numRuns: 500 },
    );
  });

  it('says why a manifest fails', () => {
    const record = JSON.parse(text);
    const reasons = (edit: (r: Record<string, unknown>) => void) => {
      const copy = structuredClone(record);
      edit(copy);
      const keys = Object.keys(copy).sort();
      const canonical = `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(copy[k])}`).join(',')}}\n`;
      const result = verifyRotationText(canonical);
      return result.ok ? 'ok' : result.reason;
    };
    expect(reasons((r) => (r.previous_signature = r.next_signature))).toMatch(
      /previous_signature does not verify/,
    );
    expect(reasons((r) => (r.next_public_key = r.previous_public_key))).toMatch(
      /nothing was rotated/,
    );
    expect(reasons((r) => (r.rotated_at = '2027-01-01T00:00:00.000Z'))).toMatch(
      /payload_sha256 does not match/,
    );
    expect(reasons((r) => delete r.next_signature)).toMatch(/fields must be exactly/);
    expect(reasons((r) => (r.alg = 'RSA'))).toMatch(/unsupported algorithm/);
    expect(verifyRotationText(text.replace('\n', ' \n')).ok).toBe(false);
    expect(verifyRotationText('not json').ok).toBe(false);
  });
});

describe('parseTrustManifest', () => {
  const key = signerFromSeedHex('03'.repeat(32), 'file').publicKey;
  const problems = (toml: string) => {
    const result = parseTrustManifest(parseTomlText(toml, 't.toml', 'MANIFEST_INVALID'));
    return result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`);
  };

  it('accepts a well-formed manifest', () => {
    expect(
      problems(`version = 1\n[[trusted_keys]]\npublic_key = "${key}"\nlabel = "ci"\n`),
    ).toEqual([]);
  });

  const cases: [string, string, RegExp][] = [
    [
      'no keys',
      'version = 1\ntrusted_keys = []\n',
      /trusted_keys: the manifest must list at least one trusted key/,
    ],
    [
      'a wrong version',
      `version = 2\n[[trusted_keys]]\npublic_key = "${key}"\nlabel = "a"\n`,
      /version: only version = 1/,
    ],
    [
      'a short key',
      '[[trusted_keys]]\npublic_key = "abcd"\nlabel = "a"\nversion=1\n',
      /public_key: must be an Ed25519 public key/,
    ],
    [
      'an uppercase key',
      `version=1\n[[trusted_keys]]\npublic_key = "${key.toUpperCase()}"\nlabel = "a"\n`,
      /public_key: must be an Ed25519 public key as 64 lowercase hex digits/,
    ],
    [
      'a duplicate key',
      `version=1\n[[trusted_keys]]\npublic_key = "${key}"\nlabel = "a"\n[[trusted_keys]]\npublic_key = "${key}"\nlabel = "b"\n`,
      /trusted_keys\[1\]\.public_key: duplicate key \(same as trusted_keys\[0\]\)/,
    ],
    [
      'a duplicate label',
      `version=1\n[[trusted_keys]]\npublic_key = "${key}"\nlabel = "a"\n[[trusted_keys]]\npublic_key = "${signerFromSeedHex('04'.repeat(32), 'file').publicKey}"\nlabel = "a"\n`,
      /trusted_keys\[1\]\.label: duplicate label "a"/,
    ],
    [
      'an unknown key',
      `version=1\nextra=1\n[[trusted_keys]]\npublic_key = "${key}"\nlabel = "a"\n`,
      /extra: unknown key/,
    ],
    [
      'a missing label',
      `version=1\n[[trusted_keys]]\npublic_key = "${key}"\n`,
      /label: missing required key/,
    ],
    [
      'a number for a key',
      'version=1\n[[trusted_keys]]\npublic_key = 5\nlabel = "a"\n',
      /public_key: expected string, got number$/,
    ],
  ];
  for (const [name, toml, expected] of cases) {
    it(`rejects ${name}, without printing any key`, () => {
      const lines = problems(toml);
      expect(
        lines.some((line) => expected.test(line)),
        lines.join('\n'),
      ).toBe(true);
      for (const line of lines) expect(line).not.toMatch(/[0-9a-f]{64}/);
    });
  }
});

describe('writeNewKeyFile errors', () => {
  it('names a missing directory', () => {
    expect(() => writeNewKeyFile(join(privateDir(), 'no', 'key'))).toThrow(AgentkError);
  });

  it('never writes through --force onto a directory', () => {
    const dir = privateDir();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'x'), '');
    expect(() => writeNewKeyFile(join(dir, 'sub'), true)).toThrow(/not a regular file/);
  });
});
