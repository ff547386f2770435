// Catalogue pin files: the canonical hash of every tool, resource, resource template and
// prompt descriptor a server has shown, per server id, in `<pins>/<server-id>.json`, and
// the changes awaiting a person's review in `<server-id>.pending.json` (tracker.ts decides
// what is pinned and what is pending). `agentk pins approve --server-id ID` promotes the
// pending catalogue. Version 1 files (no templates, no client capabilities) still load,
// and are written back as version 2.
// Input distrusted: descriptors (hashed, never stored raw) and the pin files on disk.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalSha256 } from '../../crypto/canonical-bytes.js';
import { randomHex } from '../../crypto/index.js';
import { AgentkError } from '../../errors.js';

/** Resources and resource templates are kinds apart: one URI may name one of each. */
export type CatalogueKind = 'tools' | 'resources' | 'templates' | 'prompts';
export const CATALOGUE_KINDS: readonly CatalogueKind[] = [
  'tools',
  'resources',
  'templates',
  'prompts',
];

export type Hashes = Record<CatalogueKind, Record<string, string>>;

export interface PinFile {
  readonly version: 2;
  readonly server_id: string;
  readonly pinned_at: string;
  readonly tools: Readonly<Record<string, string>>;
  readonly resources: Readonly<Record<string, string>>;
  readonly templates: Readonly<Record<string, string>>;
  readonly prompts: Readonly<Record<string, string>>;
  /**
   * Per kind, the client capabilities (key paths such as `sampling` or `elicitation/url`)
   * of the clients whose listings pinned it: a client that declares one not among them
   * may be shown descriptors that exist only for it (see tracker.ts). A kind absent here
   * (a version 1 file) was pinned under capabilities nobody recorded.
   */
  readonly client_capabilities: Readonly<Partial<Record<CatalogueKind, readonly string[]>>>;
}

/** What pinning says about one descriptor. */
export type PinState = 'first-use' | 'pinned' | 'changed' | 'new' | 'renamed';

const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DESCRIPTOR_DOMAIN = 'agentk/descriptor/v1';

export function descriptorHash(descriptor: unknown): string {
  return canonicalSha256(descriptor, DESCRIPTOR_DOMAIN);
}

export function emptyHashes(): Hashes {
  return { tools: {}, resources: {}, templates: {}, prompts: {} };
}

export function copyHashes(pins: PinFile | Hashes): Hashes {
  return {
    tools: { ...pins.tools },
    resources: { ...pins.resources },
    templates: { ...pins.templates },
    prompts: { ...pins.prompts },
  };
}

/** Capability paths kept per kind, at most, and their length. */
const MAX_CAPABILITY_PATHS = 64;
const CAPABILITY_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The key paths of a client's declared capabilities (`roots`, `roots/listChanged`,
 * `elicitation/url`, ...), sorted, four levels deep at most, 64 paths at most. A key that
 * is not a plain name is left out: a capability not read here never lets a listing add
 * descriptors without review (the direction to err in).
 */
export function capabilityPaths(capabilities: unknown): string[] {
  const paths: string[] = [];
  const walk = (value: unknown, prefix: string, depth: number) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || depth > 4) return;
    for (const key of Object.keys(value)) {
      if (!CAPABILITY_KEY.test(key)) continue;
      const path = prefix === '' ? key : `${prefix}/${key}`;
      paths.push(path);
      walk((value as Record<string, unknown>)[key], path, depth + 1);
    }
  };
  walk(capabilities, '', 1);
  return [...new Set(paths)].sort().slice(0, MAX_CAPABILITY_PATHS);
}

function isRecordOfHashes(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((hash) => typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash))
  );
}

function isCapabilities(value: unknown): value is PinFile['client_capabilities'] {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.entries(value).every(
      ([kind, paths]) =>
        (CATALOGUE_KINDS as readonly string[]).includes(kind) &&
        Array.isArray(paths) &&
        paths.length <= MAX_CAPABILITY_PATHS &&
        paths.every((path) => typeof path === 'string' && path.length <= 4 * 65),
    )
  );
}

/** A pin file of either version, as version 2 (a version 1 file has no templates). */
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
  const pins = value as Record<string, unknown> | null;
  const v1 = pins?.version === 1;
  if (
    (!v1 && pins?.version !== 2) ||
    pins === null ||
    pins.server_id !== serverId ||
    typeof pins.pinned_at !== 'string' ||
    !isRecordOfHashes(pins.tools) ||
    !isRecordOfHashes(pins.resources) ||
    !isRecordOfHashes(v1 ? {} : pins.templates) ||
    !isRecordOfHashes(pins.prompts) ||
    !isCapabilities(v1 ? {} : pins.client_capabilities)
  ) {
    throw new AgentkError(
      'MANIFEST_INVALID',
      `pin file ${path} is malformed; remove it to pin afresh`,
    );
  }
  return {
    version: 2,
    server_id: serverId,
    pinned_at: pins.pinned_at,
    tools: pins.tools,
    resources: pins.resources,
    templates: v1 ? {} : (pins.templates as Record<string, string>),
    prompts: pins.prompts,
    client_capabilities: v1 ? {} : (pins.client_capabilities as PinFile['client_capabilities']),
  };
}

/** Write a pin file whole or not at all (returns its text); a failure names the file and the cause. */
function writeAtomic(dir: string, path: string, value: unknown): string {
  const temp = `${path}.${randomHex(6)}.tmp`;
  const text = `${JSON.stringify(value, null, 2)}\n`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
    return text;
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
    return this.read(serverId)?.pins ?? null;
  }

  /** The pins and the file's text (a tracker notices a file changed under it by its text). */
  read(serverId: string): { pins: PinFile; text: string } | null {
    const path = this.#path(serverId);
    if (!existsSync(path)) return null;
    const text = readFileSync(path, 'utf8');
    return { pins: parsePins(text, serverId, path), text };
  }

  loadPending(serverId: string): PinFile | null {
    const path = this.#path(serverId, true);
    if (!existsSync(path)) return null;
    return parsePins(readFileSync(path, 'utf8'), serverId, path);
  }

  /** Write the pins (always as version 2); returns the text written. */
  save(pins: PinFile): string {
    return writeAtomic(this.dir, this.#path(pins.server_id), pins);
  }

  savePending(pins: PinFile): void {
    writeAtomic(this.dir, this.#path(pins.server_id, true), pins);
  }

  /** The pending catalogue is no more (the change reverted): its file goes, if there is one. */
  clearPending(serverId: string): void {
    const path = this.#path(serverId, true);
    try {
      rmSync(path, { force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new AgentkError('PINS_IO', `could not remove pending pin file ${path} (${code})`);
    }
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
