// Secret stores: where the bytes behind a `secret://` target live. The kernel asks a store
// whether a target is available (metadata only) when it decides `secret.open`, and reads
// the bytes only when an allowed syscall redeems a handle for a sink in its scope. Store
// references (env names, vault paths) never leave the store: not into the log, not into
// errors.

export interface SecretStore {
  /** Provider id, e.g. `env`, `static`. */
  readonly provider: string;
  /** Whether this store can serve `target` (never reveals how). */
  has(target: string): boolean;
  /** The secret's bytes, or null if unavailable. Called only by the kernel. */
  read(target: string): Uint8Array | null;
}

/**
 * A store holding fixed values in memory: for demos and tests. The demo registers a dummy
 * value under `secret://ssh/id_rsa`, so no real file of the user is ever read.
 */
export class StaticSecretStore implements SecretStore {
  readonly provider = 'static';
  readonly #values: Map<string, Uint8Array>;

  constructor(values: Readonly<Record<string, string | Uint8Array>>) {
    this.#values = new Map(
      Object.entries(values).map(([target, value]) => [
        target,
        typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
      ]),
    );
  }

  has(target: string): boolean {
    return this.#values.has(target);
  }

  read(target: string): Uint8Array | null {
    const value = this.#values.get(target);
    return value ? new Uint8Array(value) : null;
  }

  toJSON(): object {
    return { provider: this.provider, targets: this.#values.size };
  }
}
