// Trusted signers: the public keys a reviewer pins evidence to. A manifest
// (`examples/trusted-signers.toml`) lists them with labels; verification with pins fails
// for any signature by a key outside the set. Errors and summaries name keys only by
// label or redacted fingerprint, never by the raw key.
// Input distrusted: the manifest file and any --trusted-public-key value.

import * as z from 'zod';
import {
  type ConfigIssue,
  invalidDocument,
  parseTomlText,
  readConfigText,
  typeErrorMap,
  zodIssues,
} from '../config/document.js';
import { fingerprintOf, isEd25519PublicKey } from '../crypto/index.js';
import { AgentkError } from '../errors.js';

export interface TrustedKey {
  readonly publicKey: string;
  readonly label: string;
}

export interface TrustManifest {
  readonly version: 1;
  readonly keys: readonly TrustedKey[];
}

const KEY_MESSAGE = 'must be an Ed25519 public key as 64 lowercase hex digits';

const manifestSchema = z.strictObject({
  version: z.literal(1, { error: 'only version = 1 is supported' }),
  trusted_keys: z
    .array(
      z.strictObject({
        public_key: z.string().regex(/^[0-9a-f]{64}$/, KEY_MESSAGE),
        label: z
          .string()
          .min(1, 'label must not be empty')
          .max(200, 'label longer than 200 characters')
          .regex(/^[^\n\r\t]*$/, 'label must be one line'),
      }),
    )
    .min(1, 'the manifest must list at least one trusted key'),
});

export function parseTrustManifest(
  document: unknown,
): { ok: true; manifest: TrustManifest } | { ok: false; issues: ConfigIssue[] } {
  const parsed = manifestSchema.safeParse(document, { error: typeErrorMap(false) });
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) };
  const issues: ConfigIssue[] = [];
  const byKey = new Map<string, number>();
  const byLabel = new Map<string, number>();
  parsed.data.trusted_keys.forEach((entry, i) => {
    if (!isEd25519PublicKey(entry.public_key)) {
      issues.push({
        path: `trusted_keys[${i}].public_key`,
        message: 'is not a valid Ed25519 public key',
      });
    }
    const firstKey = byKey.get(entry.public_key);
    if (firstKey !== undefined) {
      issues.push({
        path: `trusted_keys[${i}].public_key`,
        message: `duplicate key (same as trusted_keys[${firstKey}])`,
      });
    } else byKey.set(entry.public_key, i);
    const firstLabel = byLabel.get(entry.label);
    if (firstLabel !== undefined) {
      issues.push({
        path: `trusted_keys[${i}].label`,
        message: `duplicate label ${JSON.stringify(entry.label)} (same as trusted_keys[${firstLabel}])`,
      });
    } else byLabel.set(entry.label, i);
  });
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    manifest: {
      version: 1,
      keys: parsed.data.trusted_keys.map((entry) => ({
        publicKey: entry.public_key,
        label: entry.label,
      })),
    },
  };
}

export function loadTrustManifest(path: string): TrustManifest {
  const document = parseTomlText(
    readConfigText(path, 'trusted-signer manifest'),
    path,
    'MANIFEST_INVALID',
  );
  const result = parseTrustManifest(document);
  if (!result.ok) invalidDocument('MANIFEST_INVALID', path, result.issues);
  return result.manifest;
}

/** Parse a `--trusted-public-key` value; the error never repeats the value. */
export function parseTrustedPublicKey(value: string, index: number): string {
  const key = value.trim().toLowerCase();
  if (!isEd25519PublicKey(key)) {
    throw new AgentkError(
      'USAGE',
      `--trusted-public-key #${index + 1} is not an Ed25519 public key (expected 64 hex digits)`,
    );
  }
  return key;
}

/** The set of pinned keys, with a label for each (manifest label, or its fingerprint). */
export class TrustPins {
  readonly #labels = new Map<string, string>();

  add(publicKey: string, label = fingerprintOf(publicKey)): void {
    if (!this.#labels.has(publicKey)) this.#labels.set(publicKey, label);
  }

  get size(): number {
    return this.#labels.size;
  }

  trusts(publicKey: unknown): boolean {
    return typeof publicKey === 'string' && this.#labels.has(publicKey);
  }

  label(publicKey: string): string | undefined {
    return this.#labels.get(publicKey);
  }
}
