// Catalogue pinning: the canonical hash of every tool, resource and prompt descriptor a
// server has shown, per server id, kept under `.agentk/pins/<server-id>.json`. The first
// catalogue a server shows is pinned (trust on first use); afterwards a descriptor that
// is new, renamed or changed is suspect, and calls to it are refused until a person runs
// `agentk pins approve --server-id ID`, which promotes the pending catalogue recorded in
// `<server-id>.pending.json`. A rug pull (a server that changes a tool after it was
// trusted) is caught the next time the client lists the tools.
// Input distrusted: descriptors (hashed, never stored raw) and the pin files on disk.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize } from '../../crypto/canonical.js';
import { domainHash, randomHex } from '../../crypto/index.js';
import { AgentkError } from '../../errors.js';

export type CatalogueKind = 'tools' | 'resources' | 'prompts';

export interface PinFile {
  readonly version: 1;
  readonly server_id: string;
  readonly pinned_at: string;
  readonly tools: Readonly<Record<string, string>>;
  readonly resources: Readonly<Record<string, string>>;
  readonly prompts: Readonly<Record<string, string>>;
}

/** What pinning says about one descriptor. */
export type PinState = 'first-use' | 'pinned' | 'changed' | 'new' | 'renamed';

const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DESCRIPTOR_DOMAIN = 'agentk/descriptor/v1';

export function descriptorHash(descriptor: unknown): string {
  return domainHash(DESCRIPTOR_DOMAIN, canonicalize(descriptor));
}

function emptyPins(serverId: string, at: string): PinFile {
  return { version: 1, server_id: serverId, pinned_at: at, tools: {}, resources: {}, prompts: {} };
}

function copyHashes(pins: PinFile): Record<CatalogueKind, Record<string, string>> {
  return {
    tools: { ...pins.tools },
    resources: { ...pins.resources },
    prompts: { ...pins.prompts },
  };
}

function isRecordOfHashes(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((hash) => typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash))
  );
}

function parsePins(text: string, serverId: string, path: string): PinFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AgentkError(
      'MANIFEST_INVALID',
      `pin file ${path} is not valid JSON; remove it to pin afresh`,
    );
  }
  const pins = value as Partial<PinFile> | null;
  if (
    pins?.version !== 1 ||
    pins.server_id !== serverId ||
    typeof pins.pinned_at !== 'string' ||
    !isRecordOfHashes(pins.tools) ||
    !isRecordOfHashes(pins.resources) ||
    !isRecordOfHashes(pins.prompts)
  ) {
    throw new AgentkError(
      'MANIFEST_INVALID',
      `pin file ${path} is malformed; remove it to pin afresh`,
    );
  }
  return pins as PinFile;
}

/** Write a pin file whole or not at all; a failure names the file and the cause. */
function writeAtomic(dir: string, path: string, value: unknown): void {
  const temp = `${path}.${randomHex(6)}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // nothing was written there
    }
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new AgentkError('PINS_IO', `could not write pin file ${path} (${code})`);
  }
}

/** Pin files of one directory. */
export class PinStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  #path(serverId: string, pending = false): string {
    if (!SERVER_ID.test(serverId))
      throw new AgentkError('USAGE', 'server id must be 1-64 of A-Z a-z 0-9 . _ -');
    return join(this.dir, `${serverId}${pending ? '.pending' : ''}.json`);
  }

  load(serverId: string): PinFile | null {
    const path = this.#path(serverId);
    if (!existsSync(path)) return null;
    return parsePins(readFileSync(path, 'utf8'), serverId, path);
  }

  loadPending(serverId: string): PinFile | null {
    const path = this.#path(serverId, true);
    if (!existsSync(path)) return null;
    return parsePins(readFileSync(path, 'utf8'), serverId, path);
  }

  save(pins: PinFile): void {
    writeAtomic(this.dir, this.#path(pins.server_id), pins);
  }

  savePending(pins: PinFile): void {
    writeAtomic(this.dir, this.#path(pins.server_id, true), pins);
  }

  /** Promote the pending catalogue: the changes a person has reviewed become the pins. */
  approve(serverId: string, at: string): { before: PinFile | null; after: PinFile } {
    const pending = this.loadPending(serverId);
    if (!pending) {
      throw new AgentkError(
        'FILE_NOT_FOUND',
        `no pending catalogue for ${serverId}: nothing to approve`,
      );
    }
    const before = this.load(serverId);
    const after: PinFile = { ...pending, pinned_at: at };
    this.save(after);
    renameSync(
      this.#path(serverId, true),
      `${this.#path(serverId, true)}.approved-${at.replace(/[:.]/g, '')}`,
    );
    return { before, after };
  }
}

/**
 * One server's catalogue during a run: checks each descriptor against the pins and keeps
 * the pending catalogue up to date. Pins are created on first use only.
 */
export class CatalogueTracker {
  readonly #store: PinStore;
  readonly #serverId: string;
  /** The pins, and the catalogue as this run has seen it: owned here, written on flush. */
  #pins: Record<CatalogueKind, Record<string, string>> | null;
  readonly #pending: Record<CatalogueKind, Record<string, string>>;
  readonly #pinnedAt: string;
  readonly #runAt: string;
  /** Unsaved changes: to the pins (first use), to the pending catalogue (something differs). */
  #pinsDirty = false;
  #pendingDirty = false;
  readonly #suspect = new Map<string, PinState>();
  /** Pinned hashes per kind, as sets (for renames), built when first needed. */
  readonly #hashes = new Map<CatalogueKind, Set<string>>();
  /**
   * Kinds (tools, resources, prompts) whose first listing is still open: the server had
   * no pins for that kind, so what it shows now is pinned as it is (trust on first use).
   */
  readonly #firstUse: Set<CatalogueKind>;

  constructor(store: PinStore, serverId: string, now: string) {
    this.#store = store;
    this.#serverId = serverId;
    const pins = store.load(serverId);
    this.#pins = pins && copyHashes(pins);
    this.#pinnedAt = pins?.pinned_at ?? now;
    this.#runAt = now;
    this.#firstUse = new Set(
      (['tools', 'resources', 'prompts'] as const).filter(
        (kind) => pins === null || Object.keys(pins[kind]).length === 0,
      ),
    );
    this.#pending = pins ? copyHashes(pins) : { tools: {}, resources: {}, prompts: {} };
  }

  /**
   * Check one descriptor; records it in the pending catalogue (or the pins, on first use).
   * Constant work per descriptor: the files are written by flush(), once per page.
   */
  check(kind: CatalogueKind, name: string, descriptor: unknown): PinState {
    const hash = descriptorHash(descriptor);
    this.#pending[kind][name] = hash;
    if (this.#firstUse.has(kind)) {
      this.#pins ??= { tools: {}, resources: {}, prompts: {} };
      this.#pins[kind][name] = hash;
      this.#pinsDirty = true;
      return 'first-use';
    }
    const pinned = this.#pins?.[kind][name];
    let state: PinState;
    if (pinned === hash) state = 'pinned';
    else if (pinned !== undefined) state = 'changed';
    else if (this.#pinnedHashes(kind).has(hash)) state = 'renamed';
    else state = 'new';
    if (state === 'pinned') this.#suspect.delete(`${kind}/${name}`);
    else {
      this.#suspect.set(`${kind}/${name}`, state);
      this.#pendingDirty = true;
    }
    return state;
  }

  /** The hashes pinned for a kind, as a set (the pins do not change after first use). */
  #pinnedHashes(kind: CatalogueKind): Set<string> {
    let hashes = this.#hashes.get(kind);
    if (!hashes) {
      hashes = new Set(Object.values(this.#pins?.[kind] ?? {}));
      this.#hashes.set(kind, hashes);
    }
    return hashes;
  }

  /** Write what changed: the pins on first use, the pending catalogue when it differs. */
  flush(): void {
    if (this.#pinsDirty && this.#pins) {
      this.#store.save({ ...this.#file(this.#pinnedAt), ...this.#pins });
      this.#pinsDirty = false;
    }
    if (this.#pendingDirty) {
      this.#store.savePending({ ...this.#file(this.#runAt), ...this.#pending });
      this.#pendingDirty = false;
    }
  }

  #file(at: string): PinFile {
    return emptyPins(this.#serverId, at);
  }

  /**
   * A listing of one kind is complete: a first-use catalogue is now the pinned one, and
   * anything that appears or changes later (a rug pull in the same session) is judged
   * against it.
   */
  endListing(kind: CatalogueKind): void {
    // The window closes even if the pins cannot be written: this run judges against them.
    this.#firstUse.delete(kind);
    this.#hashes.delete(kind);
    this.flush();
  }

  /** A first-use page cut short (the session stopped while describing it): none of it is pinned. */
  abandonPage(kind: CatalogueKind, names: readonly string[]): void {
    if (!this.#firstUse.has(kind) || !this.#pins) return;
    for (const name of names) delete this.#pins[kind][name];
    this.#pinsDirty = true;
  }

  /** The unapproved state of a descriptor seen in this run, if any. */
  suspect(kind: CatalogueKind, name: string): PinState | undefined {
    return this.#suspect.get(`${kind}/${name}`);
  }

  get serverId(): string {
    return this.#serverId;
  }
}
