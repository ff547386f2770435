import { describe, expect, it } from 'vitest';
import { parseTomlText } from '../../src/config/document.js';
import { developmentSigner } from '../../src/evidence/keys.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { MemorySink } from '../../src/recorder/sink.js';
import {
  EnvProvider,
  parseSecretRefs,
  ReferenceSecretStore,
} from '../../src/secrets/references.js';
import { DEFAULT_POLICY, policyAt } from '../helpers/kernel.js';

function parse(toml: string) {
  return parseSecretRefs(parseTomlText(toml, 's.toml', 'MANIFEST_INVALID'), [new EnvProvider({})]);
}

const GOOD =
  'version = 1\n[[secrets]]\ntarget = "secret://demo/api"\nprovider = "env"\nreference = "HIDDEN_REF_NAME"\n';

describe('parseSecretRefs', () => {
  it('accepts a well-formed manifest', () => {
    expect(parse(GOOD).ok).toBe(true);
  });

  const cases: [string, string, RegExp][] = [
    [
      'no secrets',
      'version = 1\nsecrets = []\n',
      /secrets: the manifest must list at least one secret/,
    ],
    ['a wrong version', GOOD.replace('version = 1', 'version = 3'), /version: only version = 1/],
    [
      'a bad target',
      GOOD.replace('secret://demo/api', 'https://x'),
      /secrets\[0\]\.target: target must look like secret:\/\//,
    ],
    [
      'an unknown provider',
      GOOD.replace('"env"', '"vault9"'),
      /secrets\[0\]\.provider: unknown provider "vault9" \(known: env\)/,
    ],
    [
      'an unsafe env name',
      GOOD.replace('HIDDEN_REF_NAME', 'hidden-ref; rm -rf'),
      /secrets\[0\]\.reference: not an environment-safe name/,
    ],
    [
      'a duplicate target',
      `${GOOD}[[secrets]]\ntarget = "secret://demo/api"\nprovider = "env"\nreference = "OTHER_HIDDEN"\n`,
      /secrets\[1\]\.target: duplicate target "secret:\/\/demo\/api" \(first at secrets\[0\]\)/,
    ],
    [
      'an unknown field',
      GOOD.replace('provider = "env"', 'provider = "env"\nvalue = "x"'),
      /secrets\[0\]\.value: unknown key/,
    ],
    [
      'a non-string reference',
      GOOD.replace('"HIDDEN_REF_NAME"', '12'),
      /secrets\[0\]\.reference: expected string, got number$/,
    ],
  ];
  for (const [name, toml, expected] of cases) {
    it(`rejects ${name} without echoing a reference`, () => {
      const result = parse(toml);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const lines = result.issues.map((issue) => `${issue.path}: ${issue.message}`);
      expect(
        lines.some((line) => expected.test(line)),
        lines.join('\n'),
      ).toBe(true);
      expect(lines.join('\n')).not.toMatch(/HIDDEN|hidden-ref/);
    });
  }
});

describe('ReferenceSecretStore', () => {
  const result = parse(GOOD);
  if (!result.ok) throw new Error('fixture');

  it('counts available, missing and unsupported references from the environment', () => {
    expect(new ReferenceSecretStore(result.manifest, [new EnvProvider({})]).check()).toEqual({
      available: 0,
      missing: 1,
      unsupported: 0,
    });
    expect(
      new ReferenceSecretStore(result.manifest, [
        new EnvProvider({ HIDDEN_REF_NAME: 'v' }),
      ]).check(),
    ).toEqual({
      available: 1,
      missing: 0,
      unsupported: 0,
    });
    expect(new ReferenceSecretStore(result.manifest, []).check()).toEqual({
      available: 0,
      missing: 0,
      unsupported: 1,
    });
  });

  it('lets the kernel mint a handle only when a configured store serves the reference', () => {
    const open = (env: Record<string, string>) => {
      const sink = new MemorySink();
      const kernel = new Kernel({
        policy: policyAt(DEFAULT_POLICY),
        signer: developmentSigner(),
        trace: { sink },
        secretStores: [new ReferenceSecretStore(result.manifest, [new EnvProvider(env)])],
      });
      const opened = kernel.syscall({ kind: 'secret.open', target: 'secret://demo/api' });
      kernel.close();
      return { opened, text: sink.text() };
    };
    expect(open({}).opened.rule).toBe('kernel.secret-unavailable');
    const { opened, text } = open({ HIDDEN_REF_NAME: 'the-secret-value' });
    expect(opened.secretHandle).not.toBeNull();
    expect(text).not.toMatch(/HIDDEN_REF_NAME|the-secret-value|env/);
  });
});
