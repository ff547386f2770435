// The credential scanners' anchor gate (detect.ts): a text is skipped only when no pattern
// could match it. Held by comparing every answer with the gate to the answer without it,
// on random texts built from the patterns' own pieces (so that matches, near misses and
// case variants are common), and on one real example of each format.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  containsSecret,
  findCredentialFormats,
  findSecrets,
  redactSecrets,
} from '../../src/provenance/detect.js';

/** Pieces of every pattern: prefixes, separators, names in several cases, look-alikes. */
const PIECES = [
  '-----BEGIN ',
  '-----END ',
  'RSA ',
  'OPENSSH ',
  'PRIVATE KEY',
  ' BLOCK',
  '-----',
  'AKIA',
  'ASIA',
  'akia',
  'Asia',
  'ghp_',
  'gho_',
  'ghs_',
  'gh',
  'github_pat_',
  'glpat-',
  'xoxb-',
  'xoxp-',
  'xox',
  'sk-',
  'sk-proj-',
  'sk-ant-',
  'Sk-',
  'task-',
  'AIza',
  'aiza',
  'sk_live_',
  'rk_live_',
  '_live_',
  'whsec_',
  'npm_',
  'hf_',
  'eyJ',
  '.eyJ',
  '.',
  'pypi-AgEIcHlwaS5vcmc',
  'pypi-',
  'https://hooks.slack.com/services/T',
  'T',
  '/B',
  'https://',
  'postgres://',
  'HTTP://',
  '://',
  'Bearer ',
  'Bearer\t',
  'bearer ',
  'Authorization: ',
  'password',
  'PassWord',
  'PASSWD',
  'pwd',
  'Pwd',
  'secret',
  'SECRET',
  'api_key',
  'API-KEY',
  'apikey',
  'access_token',
  'ACCESS-TOKEN',
  'auth_token',
  'authtoken',
  'private_key',
  'Private-Key',
  // Letters `i` without `u` does not fold to ASCII: the gate must not fold them either.
  'ſecret',
  'api_\u212aey',
  'pa\u017fsword',
  'DB_',
  '_url',
  '_name',
  '.prod',
  ': ',
  ':',
  '=',
  ' = ',
  '"',
  "'",
  ',',
  '}',
  '@',
  '/',
  ' ',
  '  ',
  '\n',
  '\t',
  '********',
  '$' + '{X}',
  'secret_fd_0123456789abcdef0123456789abcdef',
  '[redacted-secret]',
  'user',
  'the quick brown fox',
];

const TOKEN_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=.'];
const UPPER_DIGITS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];

/** A run of token characters, long enough for most formats' bodies now and then. */
const run = (min: number) =>
  fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: min, maxLength: 64 });
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 2, arbitrary: run(0) },
  // A piece followed by a body: a whole credential, or one character short of it.
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...PIECES), run(5)).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...UPPER_DIGITS), maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const texts = fc.array(piece, { maxLength: 24, size: 'medium' }).map((pieces) => pieces.join(''));

describe('the credential anchor gate', () => {
  it('never changes what the scanners find, on texts built from the patterns’ pieces', () => {
    let withFindings = 0;
    let formats = 0;
    fc.assert(
      fc.property(texts, (text) => {
        const ungated = findSecrets(text, false);
        expect(findSecrets(text)).toEqual(ungated);
        expect(containsSecret(text)).toBe(ungated.length > 0);
        const ungatedFormats = findCredentialFormats(text, false);
        expect(findCredentialFormats(text)).toEqual(ungatedFormats);
        if (ungated.length > 0) withFindings += 1;
        if (ungatedFormats.length > 0) formats += 1;
      }),
      { numRuns: 4000 },
    );
    // The texts reach the patterns often enough for the comparison to mean something.
    // (about 8% and 5% of them do; the bounds leave room for chance).
    expect(withFindings).toBeGreaterThan(150);
    expect(formats).toBeGreaterThan(80);
  });

  it.each([
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
    'key AKIAIOSFODNN7EXAMPLE here',
    'ASIAIOSFODNN7EXAMPLE',
    `ghp_${'a1B2'.repeat(9)}`,
    `github_pat_${'A1b2_'.repeat(5)}`,
    'glpat-abcdefghij0123456789',
    'xoxb-1234567890-abcdefghij',
    `sk-proj-${'a'.repeat(24)}`,
    `AIza${'B'.repeat(35)}`,
    `rk_live_${'0'.repeat(24)}`,
    `whsec_${'Q'.repeat(24)}`,
    `npm_${'x'.repeat(36)}`,
    `hf_${'y'.repeat(30)}`,
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    `pypi-AgEIcHlwaS5vcmc${'z'.repeat(50)}`,
    'https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX',
    'Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345',
    'redis://default:hunter2-prod@cache.internal:6379',
    'DB_PASSWORD=Tr0ub4dor-Prod-5521',
    '"Api-Key": "k3y-value-123"',
  ])('finds %s through the gate', (text) => {
    expect(findSecrets(text, false).length).toBeGreaterThan(0);
    expect(findSecrets(text)).toEqual(findSecrets(text, false));
    expect(redactSecrets(text)).not.toBe(text);
  });
});
