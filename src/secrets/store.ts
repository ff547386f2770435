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
  /**
   * The targets this store can enumerate, so that their values can be recognised in
   * content headed to the model. Optional: a vault may not list its secrets.
   */
  targets?(): readonly string[];
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

  targets(): readonly string[] {
    return [...this.#values.keys()];
  }

  toJSON(): object {
    return { provider: this.provider, targets: this.#values.size };
  }
}

/**
 * Secrets the kernel found in content headed to the model (a token in a tool's output):
 * kept in memory only, under `secret://captured/<source>/<n>`, so that a handle can stand
 * in for them and the bytes go back only to a sink the handle's scope allows.
 */
export class CapturedSecretStore implements SecretStore {
  readonly provider = 'captured';
  readonly #values = new Map<string, Uint8Array>();
  readonly #byValue = new Map<string, string>();

  /** How many distinct secrets the store holds. */
  get size(): number {
    return this.#values.size;
  }

  /** The target this value from this source was captured under, if it was. */
  targetOf(source: string, value: string): string | undefined {
    return this.#byValue.get(`${source}\0${value}`);
  }

  /** The target for this value (the same value always gets the same target). */
  add(source: string, value: string): string {
    const known = this.targetOf(source, value);
    if (known) return known;
    const target = `secret://captured/${source}/${this.#values.size + 1}`;
    this.#values.set(target, Buffer.from(value, 'utf8'));
    this.#byValue.set(`${source}\0${value}`, target);
    return target;
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
