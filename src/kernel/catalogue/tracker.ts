// One server's catalogue during a run, against its pins (pins.ts). The first catalogue a
// server shows of each kind is pinned (trust on first use); afterwards a descriptor that is
// new, renamed or changed is suspect, calls to it are refused, and the catalogue as seen is
// the pending one, for a person to review and approve. A rug pull (a server that changes a
// tool after it was trusted) is caught the next time the client lists the tools.
//
// Without false alarms:
// - Resources and resource templates are kinds apart (one URI may name one of each).
// - The pending file says what the server shows now: a listing that matches the pins again
//   (the change reverted) removes it, and a run picks up pins approved while it runs.
// - Client capabilities: servers show some tools only to clients that declare a capability
//   (server-everything's trigger-sampling-request needs `sampling`). The pins are one
//   catalogue per server, whoever listed it, and remember per kind the capabilities of the
//   clients that listed it. A client that declares a capability none of them did opens a
//   window for that kind's first listing in its run: descriptors with names never pinned
//   are added to the pins without alarm, but only while the listing shows every name
//   pinned before it, unchanged (a page is previewed before its descriptors are judged;
//   a pinned name on a later page than an addition makes the addition suspect, erring
//   safe). A pinned descriptor that changed or vanished (a rename, hash-identical or not)
//   makes the listing's additions suspect like any outside a window. A server can
//   therefore add unreviewed descriptors only when a client first brings a capability it
//   has never been listed for, and only beside the whole pinned catalogue as it was
//   (pinning per capability set instead would let a server change a pinned tool for
//   every new combination).
// - A kind listed with nothing in it is pinned as listed (its capabilities are recorded):
//   what a server adds to it later is new, not a first use.
// - A first listing that never reaches its last page (a server that always gives a next
//   cursor, a client that does not page, a later page that fails) must not leave first
//   use open for the run: the next listing of that kind (a first page again) closes it,
//   as it closes a window, and a descriptor pinned on first use in this run is fixed for
//   the run (shown again with another hash, it is changed, even while first use is open).
//   Pages 2..n of the first listing still add names under first use.
// Input distrusted: descriptors (hashed, never stored raw) and the pin files on disk.

import { AgentkError } from '../../errors.js';
import {
  CATALOGUE_KINDS,
  type CatalogueKind,
  copyHashes,
  descriptorHash,
  emptyHashes,
  type Hashes,
  type PinFile,
  type PinState,
  type PinStore,
} from './pins.js';
import { templateMayMatch } from './templates.js';

/** What a listing in a window has shown of the names pinned before it. */
interface WindowSeen {
  readonly pinned: ReadonlySet<string>;
  readonly intact: Set<string>;
  broken?: boolean;
}

function sameHashes(a: Hashes, b: Hashes): boolean {
  return CATALOGUE_KINDS.every((kind) => {
    const names = Object.keys(a[kind]);
    return (
      names.length === Object.keys(b[kind]).length &&
      names.every((name) => a[kind][name] === b[kind][name])
    );
  });
}

/**
 * Checks each descriptor against the pins and keeps the pending catalogue up to date;
 * writes both on flush.
 */
export class CatalogueTracker {
  readonly #store: PinStore;
  readonly #serverId: string;
  /** The pins (null before any), and the text of their file as last read or written. */
  #pins: Hashes | null = null;
  #pinsText: string | null = null;
  #pinnedAt: string;
  readonly #runAt: string;
  /** Per kind, the client capabilities the pins were listed under (see PinFile). */
  #capabilities: Partial<Record<CatalogueKind, readonly string[]>> = {};
  /** What this run's client declares (capabilityPaths), once it has. */
  #declared: readonly string[] = [];
  /** The catalogue as this run has seen it: the pins, with each listing's differences. */
  readonly #pending: Hashes;
  #pendingOnDisk: boolean;
  /** Unsaved changes: to the pins (first use), to the pending catalogue (something differs). */
  #pinsDirty = false;
  #pendingDirty = false;
  /** `kind/name` -> its unapproved state, and the hash of what the server showed. */
  readonly #suspect = new Map<string, { state: PinState; hash: string }>();
  /** Pinned hashes per kind, as sets (for renames), built when first needed. */
  readonly #hashes = new Map<CatalogueKind, Set<string>>();
  /** Kinds whose first listing is still open: what the server shows is pinned as it is. */
  readonly #firstUse: Set<CatalogueKind>;
  /** Kinds whose listing may add new names: the client declared a capability not pinned. */
  readonly #window = new Set<CatalogueKind>();
  /** `kind/name` of what such a listing added (none of it pinned if its page is cut short). */
  readonly #added = new Set<string>();
  /**
   * Per kind in a window, its listing so far: the names pinned when it began, those it has
   * shown unchanged, and whether it showed one of them changed.
   */
  readonly #windowSeen = new Map<CatalogueKind, WindowSeen>();
  /** Kinds this run has begun a listing of (a first use or window open past it is closed). */
  readonly #begun = new Set<CatalogueKind>();

  constructor(store: PinStore, serverId: string, now: string) {
    this.#store = store;
    this.#serverId = serverId;
    const found = store.read(serverId);
    this.#adopt(found);
    this.#pinnedAt = found?.pins.pinned_at ?? now;
    this.#runAt = now;
    this.#firstUse = new Set(CATALOGUE_KINDS.filter((kind) => !this.#listedBefore(kind)));
    let pending: PinFile | null = null;
    try {
      pending = store.loadPending(serverId);
    } catch {
      // A malformed pending file is replaced by the next one written.
    }
    this.#pendingOnDisk = pending !== null;
    // Kinds this run does not list keep what was pending for them.
    this.#pending = copyHashes(pending ?? this.#pins ?? emptyHashes());
  }

  /**
   * Whether a kind was listed before: it has pins, or capabilities recorded (a listing
   * that showed nothing records them too). A version 1 file records none.
   */
  #listedBefore(kind: CatalogueKind): boolean {
    return (
      Object.keys(this.#pins?.[kind] ?? {}).length > 0 || this.#capabilities[kind] !== undefined
    );
  }

  #adopt(found: { pins: PinFile; text: string } | null): void {
    if (!found) return;
    this.#pins = copyHashes(found.pins);
    this.#pinsText = found.text;
    this.#capabilities = { ...found.pins.client_capabilities };
    this.#hashes.clear();
  }

  /**
   * The capabilities this run's client declared (before it lists anything): each kind
   * pinned under capabilities that do not include them all may add new names in its next
   * listing. A kind whose capabilities were never recorded (a version 1 file) is taken to
   * have been listed under these.
   */
  declare(paths: readonly string[]): void {
    this.#declared = paths;
    for (const kind of CATALOGUE_KINDS) {
      const known = this.#capabilities[kind];
      if (known === undefined) {
        if (!this.#firstUse.has(kind)) this.#cover(kind);
      } else if (paths.some((path) => !known.includes(path))) this.#window.add(kind);
    }
  }

  /** The pins of `kind` were listed under this run's capabilities too. */
  #cover(kind: CatalogueKind): void {
    const known = this.#capabilities[kind] ?? [];
    const union = [...new Set([...known, ...this.#declared])].sort();
    if (this.#capabilities[kind] !== undefined && union.length === known.length) return;
    this.#capabilities[kind] = union;
    this.#pinsDirty = this.#pins !== null;
  }

  /**
   * Read the pin file again if it changed since this run last read or wrote it (a person
   * approved a pending catalogue): descriptors that now match it are no longer suspect.
   * Throws (fail closed) if it became unreadable.
   */
  refresh(): void {
    const found = this.#store.read(this.#serverId);
    if (!found || found.text === this.#pinsText) return;
    this.#adopt(found);
    this.#pinnedAt = found.pins.pinned_at;
    for (const kind of CATALOGUE_KINDS) {
      if (this.#listedBefore(kind)) this.#firstUse.delete(kind);
    }
    for (const [key, { hash }] of this.#suspect) {
      const slash = key.indexOf('/');
      const kind = key.slice(0, slash) as CatalogueKind;
      if (this.#pins?.[kind][key.slice(slash + 1)] === hash) this.#suspect.delete(key);
    }
  }

  /** A listing of `kind` starts: the pending catalogue of that kind is what it will show. */
  beginListing(kind: CatalogueKind): void {
    // An earlier listing of this kind never reached its last page: what it pinned on first
    // use (or added in a window) is the reference from now on, as if it had ended.
    if (this.#begun.has(kind) && (this.#firstUse.has(kind) || this.#window.has(kind))) {
      this.endListing(kind);
    }
    this.#begun.add(kind);
    this.#pending[kind] = { ...(this.#pins?.[kind] ?? {}) };
    this.#pendingDirty = true;
    this.#windowSeen.delete(kind);
  }

  /**
   * A page of a listing in a window, before its descriptors are checked: which pinned names
   * it shows unchanged (or changed), so that an addition anywhere on the page is judged
   * knowing them (`descriptors[i]` is named `names[i]`). Outside a window it does nothing.
   */
  previewPage(
    kind: CatalogueKind,
    names: readonly string[],
    descriptors: readonly unknown[],
  ): void {
    if (!this.#window.has(kind)) return;
    names.forEach((name, i) => {
      this.#witness(kind, name, descriptorHash(descriptors[i]));
    });
  }

  /** What a window listing has seen of `kind` (the pins as they were when it began). */
  #seen(kind: CatalogueKind): WindowSeen {
    let seen = this.#windowSeen.get(kind);
    if (!seen) {
      seen = { pinned: new Set(Object.keys(this.#pins?.[kind] ?? {})), intact: new Set() };
      this.#windowSeen.set(kind, seen);
    }
    return seen;
  }

  #witness(kind: CatalogueKind, name: string, hash: string): void {
    const seen = this.#seen(kind);
    if (!seen.pinned.has(name)) return;
    if (this.#pins?.[kind][name] === hash) seen.intact.add(name);
    else seen.broken = true;
  }

  /**
   * A window may add names only while the listing shows every name pinned before it
   * unchanged: one that vanished (a rename) or changed makes the additions suspect.
   */
  #windowOpen(kind: CatalogueKind): boolean {
    if (!this.#window.has(kind)) return false;
    const seen = this.#seen(kind);
    return seen.broken !== true && seen.intact.size === seen.pinned.size;
  }

  /**
   * Check one descriptor; records it in the pending catalogue (or the pins, on first use).
   * Constant work per descriptor: the files are written by flush(), once per page.
   */
  check(kind: CatalogueKind, name: string, descriptor: unknown): PinState {
    const hash = descriptorHash(descriptor);
    this.#pending[kind][name] = hash;
    if (kind === 'templates') this.#unfile(name, hash);
    // Under first use, a name already pinned was pinned in this run: it is fixed for the run.
    const fixed = this.#pins?.[kind][name];
    if (this.#firstUse.has(kind) && (fixed === undefined || fixed === hash)) {
      return this.#pin(kind, name, hash);
    }
    if (this.#window.has(kind)) this.#witness(kind, name, hash);
    const pinned = this.#pins?.[kind][name];
    let state: PinState;
    if (pinned === hash) state = 'pinned';
    else if (pinned !== undefined) state = 'changed';
    else if (this.#pinnedHashes(kind).has(hash)) state = 'renamed';
    else if (this.#windowOpen(kind)) {
      this.#added.add(`${kind}/${name}`);
      return this.#pin(kind, name, hash);
    } else state = 'new';
    if (state === 'pinned') this.#suspect.delete(`${kind}/${name}`);
    else {
      this.#suspect.set(`${kind}/${name}`, { state, hash });
      this.#pendingDirty = true;
    }
    return state;
  }

  #pin(kind: CatalogueKind, name: string, hash: string): PinState {
    this.#pins ??= emptyHashes();
    this.#pins[kind][name] = hash;
    this.#pinsDirty = true;
    this.#suspect.delete(`${kind}/${name}`);
    return 'first-use';
  }

  /**
   * A version 1 file may hold a template among the resources (they shared a kind): one
   * with this very descriptor is that template, and moves to the templates.
   */
  #unfile(name: string, hash: string): void {
    if (this.#pins?.resources[name] !== hash) return;
    delete this.#pins.resources[name];
    if (this.#pending.resources[name] === hash) delete this.#pending.resources[name];
    this.#pins.templates[name] = hash;
    this.#pinsDirty = true;
  }

  /** The hashes pinned for a kind, as a set (for renames), until the pins change. */
  #pinnedHashes(kind: CatalogueKind): Set<string> {
    let hashes = this.#hashes.get(kind);
    if (!hashes) {
      hashes = new Set(Object.values(this.#pins?.[kind] ?? {}));
      this.#hashes.set(kind, hashes);
    }
    return hashes;
  }

  /**
   * Write what changed: the pins (first use, additions, capabilities); the pending
   * catalogue while it differs from them, and its removal once it no longer does.
   */
  flush(): void {
    if (this.#pinsDirty && this.#pins) {
      this.#pinsText = this.#store.save({ ...this.#file(this.#pinnedAt), ...this.#pins });
      this.#pinsDirty = false;
    }
    if (!this.#pendingDirty) return;
    if (sameHashes(this.#pending, this.#pins ?? emptyHashes())) {
      if (this.#pendingOnDisk) this.#store.clearPending(this.#serverId);
      this.#pendingOnDisk = false;
    } else {
      this.#store.savePending({ ...this.#file(this.#runAt), ...this.#pending });
      this.#pendingOnDisk = true;
    }
    this.#pendingDirty = false;
  }

  #file(at: string): PinFile {
    return {
      version: 2,
      server_id: this.#serverId,
      pinned_at: at,
      ...emptyHashes(),
      client_capabilities: this.#capabilities,
    };
  }

  /**
   * A listing of one kind is complete: a first-use catalogue (or a capability's
   * additions) is now pinned, under this run's client capabilities, and anything that
   * appears or changes later (a rug pull in the same session) is judged against it.
   */
  endListing(kind: CatalogueKind): void {
    // The window closes even if the pins cannot be written: this run judges against them.
    // A first listing that showed nothing is pinned too: what appears later is new.
    if (this.#firstUse.has(kind)) this.#pins ??= emptyHashes();
    if (this.#firstUse.has(kind) || this.#window.has(kind)) this.#cover(kind);
    this.#firstUse.delete(kind);
    this.#window.delete(kind);
    this.#windowSeen.delete(kind);
    for (const key of this.#added) if (key.startsWith(`${kind}/`)) this.#added.delete(key);
    this.#hashes.delete(kind);
    this.flush();
  }

  /**
   * A page cut short (the session stopped while describing it): none of what it would
   * have pinned, on first use or as a capability's additions, is pinned.
   */
  abandonPage(kind: CatalogueKind, names: readonly string[]): void {
    if (!this.#pins) return;
    const first = this.#firstUse.has(kind);
    for (const name of names) {
      if (!first && !this.#added.delete(`${kind}/${name}`)) continue;
      delete this.#pins[kind][name];
      this.#pinsDirty = true;
    }
  }

  /** The unapproved state of a descriptor seen in this run, if any. */
  suspect(kind: CatalogueKind, name: string): PinState | undefined {
    return this.#suspect.get(`${kind}/${name}`)?.state;
  }

  /**
   * A suspect template of this run whose pattern may match `uri` (a read through it), and
   * its state; matching errs towards a match (templates.ts).
   */
  suspectTemplate(uri: string): { template: string; state: PinState } | undefined {
    for (const [key, { state }] of this.#suspect) {
      if (!key.startsWith('templates/')) continue;
      const template = key.slice('templates/'.length);
      if (templateMayMatch(template, uri)) return { template, state };
    }
    return undefined;
  }

  get serverId(): string {
    return this.#serverId;
  }
}

/** A tracker, or why the server's pins are unusable (then its descriptors are refused). */
export function openTracker(
  store: PinStore,
  serverId: string,
  now: string,
): CatalogueTracker | AgentkError {
  try {
    return new CatalogueTracker(store, serverId, now);
  } catch (error) {
    return error instanceof AgentkError
      ? error
      : new AgentkError('MANIFEST_INVALID', `pins of ${serverId} are unusable`);
  }
}
