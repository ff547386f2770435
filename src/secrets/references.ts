// Secret references: a manifest maps `secret://` targets to a provider and a reference
// inside it (an environment variable name, a vault path). The kernel sees only a
// SecretStore keyed by target; references never leave this module: not into logs, errors,
// summaries or stdout.
// Input distrusted: the manifest, and the environment it is checked against.

import * as z from 'zod';
import {
  type ConfigIssue,
  invalidDocument,
  parseTomlText,
  readConfigText,
  typeErrorMap,
  zodIssues,
} from '../config/document.js';
import type { SecretStore } from './store.js';

export interface SecretReference {
  readonly target: string;
  readonly provider: string;
  readonly reference: string;
}

export interface SecretRefManifest {
  readonly version: 1;
  readonly secrets: readonly SecretReference[];
}

/** Where secret bytes live. The interface admits vaults and keychains beside `env`. */
export interface SecretProvider {
  readonly id: string;
  /** Whether the reference is well-formed for this provider (never echoed). */
  validReference(reference: string): boolean;
  available(reference: string): boolean;
  read(reference: string): Uint8Array | null;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** Secrets held in environment variables, named by the reference. */
export class EnvProvider implements SecretProvider {
  readonly id = 'env';
  readonly #env: Readonly<Record<string, string | undefined>>;

  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    this.#env = env;
  }

  validReference(reference: string): boolean {
    return ENV_NAME.test(reference);
  }

  available(reference: string): boolean {
    const value = this.#env[reference];
    return value !== undefined && value !== '';
  }

  read(reference: string): Uint8Array | null {
    const value = this.#env[reference];
    return value === undefined || value === '' ? null : Buffer.from(value, 'utf8');
  }

  toJSON(): object {
    return { provider: this.id };
  }
}

/** The providers AgentK knows; a manifest naming another is invalid. */
export const KNOWN_PROVIDERS: readonly string[] = ['env'];

const TARGET = /^secret:\/\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;

const manifestSchema = z.strictObject({
  version: z.literal(1, { error: 'only version = 1 is supported' }),
  secrets: z
    .array(
      z.strictObject({
        target: z
          .string()
          .regex(TARGET, 'target must look like secret://name or secret://name/path'),
        provider: z.string().min(1, 'provider must not be empty').max(64, 'provider name too long'),
        // The schema never quotes a reference: its type errors do not echo values.
        reference: z.string().min(1, 'reference must not be empty').max(1024, 'reference too long'),
      }),
    )
    .min(1, 'the manifest must list at least one secret'),
});

export function parseSecretRefs(
  document: unknown,
  providers: readonly SecretProvider[] = [new EnvProvider({})],
): { ok: true; manifest: SecretRefManifest } | { ok: false; issues: ConfigIssue[] } {
  const parsed = manifestSchema.safeParse(document, { error: typeErrorMap(false) });
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) };
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  parsed.data.secrets.forEach((entry, i) => {
    const first = seen.get(entry.target);
    if (first !== undefined) {
      issues.push({
        path: `secrets[${i}].target`,
        message: `duplicate target ${JSON.stringify(entry.target)} (first at secrets[${first}])`,
      });
    } else seen.set(entry.target, i);
    if (!KNOWN_PROVIDERS.includes(entry.provider)) {
      issues.push({
        path: `secrets[${i}].provider`,
        message: `unknown provider ${JSON.stringify(entry.provider.slice(0, 64))} (known: ${KNOWN_PROVIDERS.join(', ')})`,
      });
      return;
    }
    const provider = providers.find((candidate) => candidate.id === entry.provider);
    if (provider && !provider.validReference(entry.reference)) {
      issues.push({
        path: `secrets[${i}].reference`,
        message:
          entry.provider === 'env'
            ? 'not an environment-safe name (A-Z, 0-9 and _, not starting with a digit)'
            : 'not a valid reference for its provider',
      });
    }
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, manifest: { version: 1, secrets: parsed.data.secrets } };
}

export function loadSecretRefs(path: string): SecretRefManifest {
  const document = parseTomlText(
    readConfigText(path, 'secret-reference manifest'),
    path,
    'MANIFEST_INVALID',
  );
  const result = parseSecretRefs(document);
  if (!result.ok) invalidDocument('MANIFEST_INVALID', path, result.issues);
  return result.manifest;
}

export interface AvailabilityReport {
  readonly available: number;
  readonly missing: number;
  readonly unsupported: number;
}

/**
 * A SecretStore over a reference manifest and the configured providers: what the kernel
 * uses to mint handles for external references.
 */
export class ReferenceSecretStore implements SecretStore {
  readonly provider = 'references';
  readonly #entries: ReadonlyMap<string, SecretReference>;
  readonly #providers: readonly SecretProvider[];

  constructor(manifest: SecretRefManifest, providers: readonly SecretProvider[]) {
    this.#entries = new Map(manifest.secrets.map((entry) => [entry.target, entry]));
    this.#providers = providers;
  }

  #providerFor(entry: SecretReference): SecretProvider | undefined {
    return this.#providers.find((provider) => provider.id === entry.provider);
  }

  has(target: string): boolean {
    const entry = this.#entries.get(target);
    if (!entry) return false;
    return this.#providerFor(entry)?.available(entry.reference) ?? false;
  }

  read(target: string): Uint8Array | null {
    const entry = this.#entries.get(target);
    if (!entry) return null;
    return this.#providerFor(entry)?.read(entry.reference) ?? null;
  }

  targets(): readonly string[] {
    return [...this.#entries.keys()];
  }

  /** Counts only: which references a configured provider can serve now. */
  check(): AvailabilityReport {
    let available = 0;
    let missing = 0;
    let unsupported = 0;
    for (const entry of this.#entries.values()) {
      const provider = this.#providerFor(entry);
      if (!provider) unsupported += 1;
      else if (provider.available(entry.reference)) available += 1;
      else missing += 1;
    }
    return { available, missing, unsupported };
  }

  toJSON(): object {
    return { provider: this.provider, targets: this.#entries.size };
  }
}
