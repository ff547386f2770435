// The catalogue stage: what servers have shown of their tools, resources, resource
// templates and prompts. Descriptors are checked against each server's pins (tracker.ts:
// trust on first use, then anything new or changed is suspect) and calls to unapproved
// ones are refused; a tool's
// MCP annotations feed its sink classes; a tool whose own descriptor looks poisoned is
// remembered, so that no secret is ever revealed to it.
// Input distrusted: descriptors (the server's) and the pin files on disk.

import { AgentkError } from '../../errors.js';
import type { SinkMask, SyscallKind } from '../../vocabulary.js';
import type { CatalogueVerdict } from '../analysis/analysis.js';
import { loggable } from '../loggable.js';
import type { SyscallRequest } from '../types.js';
import { type CatalogueKind, capabilityPaths, type PinState, type PinStore } from './pins.js';
import { type CatalogueTracker, openTracker } from './tracker.js';

/** Described tools remembered at most (annotations, suspects); beyond, fail closed. */
const MAX_CATALOG = 100_000;

const CATALOGUE_OF: Partial<Record<SyscallKind, CatalogueKind>> = {
  'tool.describe': 'tools',
  'tool.invoke': 'tools',
  'resource.describe': 'resources',
  'resource.read': 'resources',
  'prompt.describe': 'prompts',
  'prompt.get': 'prompts',
};

/**
 * Which catalogue a describe belongs to: the one of the listing it comes from (a
 * `resource.describe` from `resources/templates/list` is a template's), never a guess
 * from the descriptor's shape, which is the server's to choose. Outside a listing (library
 * use) it is the kind's own; a listing that does not go with the kind is null (refused).
 */
function catalogueOf(kind: SyscallKind, listed: CatalogueKind | undefined): CatalogueKind | null {
  const own = CATALOGUE_OF[kind] as CatalogueKind;
  if (listed === undefined || listed === own) return own;
  return kind === 'resource.describe' && listed === 'templates' ? listed : null;
}

/**
 * Catalogue listings as the MCP proxy sees them (tools/list, resources/list,
 * resources/templates/list, prompts/list, page by page). Before a page's describes, its names: a name a server lists twice in one
 * listing (the first page starts one) is refused, with every use of it for the rest of the
 * run. After them, the page's pin changes are written; after the last page, a first-use
 * catalogue becomes the reference for the rest of the run.
 */
export interface CatalogueListings {
  /**
   * The capabilities the client declared at initialize: a server may show it descriptors
   * it shows no other client (tracker.ts says how the pins take them).
   */
  declareClient(server: string, capabilities: unknown): void;
  /** `descriptors[i]` is the descriptor named `names[i]`. */
  beginPage(
    server: string,
    kind: CatalogueKind,
    names: readonly string[],
    descriptors: readonly unknown[],
    first: boolean,
  ): void;
  endPage(server: string, kind: CatalogueKind, last: boolean): void;
  /** A described tool may not be given secrets (its description steers at other tools). */
  markSuspect(target: string): void;
}

export class Catalogue implements CatalogueListings {
  readonly #pins: PinStore | undefined;
  readonly #clock: () => number;
  readonly #trackers = new Map<string, CatalogueTracker | AgentkError>();
  /** Sink classes from each described tool's MCP annotations, by target. */
  readonly #annotated = new Map<string, SinkMask>();
  /** Tools whose current descriptor is poisoned-suspect: no secret is revealed to them. */
  readonly #suspect = new Set<string>();
  /** Set when a suspect tool could not be remembered: then no tool gets secrets (fail closed). */
  #suspectOverflow = false;
  /** Names in each server's open listing of each kind (`server/kind`). */
  readonly #listed = new Map<string, Set<string>>();
  /** The names of each page being described (`server/kind`), until it ends. */
  readonly #openPages = new Map<string, readonly string[]>();
  /** `kind/target` of every name a server listed twice in one listing: refused for the run. */
  readonly #duplicated = new Set<string>();
  /** Set when a duplicated name could not be remembered: then every use is refused. */
  #duplicatedOverflow = false;
  /** The capability paths each server's client declared. */
  readonly #declared = new Map<string, readonly string[]>();

  constructor(pins: PinStore | undefined, clock: () => number) {
    this.#pins = pins;
    this.#clock = clock;
  }

  /** The tracker of a target's server (the part before the first `/`), if pins are kept. */
  #tracker(target: string): { tracker: CatalogueTracker; name: string } | CatalogueVerdict | null {
    const slash = target.indexOf('/');
    if (slash <= 0 || !this.#pins) return null;
    const server = target.slice(0, slash);
    let tracker = this.#trackers.get(server);
    if (!tracker) {
      tracker = openTracker(this.#pins, server, new Date(this.#clock()).toISOString());
      const declared = this.#declared.get(server);
      if (declared && !(tracker instanceof AgentkError)) tracker.declare(declared);
      this.#trackers.set(server, tracker);
    }
    if (tracker instanceof AgentkError) {
      return { refusal: { rule: 'kernel.pins-unusable', reason: tracker.message } };
    }
    return { tracker, name: target.slice(slash + 1) };
  }

  /** What the pins say of a request's descriptor: checked if it describes, gated if it uses. */
  verdict(request: SyscallRequest, listed?: CatalogueKind): CatalogueVerdict | undefined {
    switch (request.kind) {
      case 'tool.describe':
      case 'resource.describe':
      case 'prompt.describe':
        return this.check(request.kind, request.target, request.descriptor, listed);
      case 'tool.invoke':
      case 'resource.read':
      case 'prompt.get':
        return this.gate(request.kind, request.target);
      default:
        return undefined;
    }
  }

  /**
   * Check a descriptor against its server's pins (recording it in the pending catalogue).
   * A name described twice in one listing is refused, and so is every later use of it in
   * this run: which of its descriptors would run is the server's choice, not what was judged.
   * `listed` is the catalogue of the listing it comes from (see catalogueOf).
   */
  check(
    kind: SyscallKind,
    target: string,
    descriptor: unknown,
    listed?: CatalogueKind,
  ): CatalogueVerdict | undefined {
    const catalogue = catalogueOf(kind, listed);
    if (catalogue === null) {
      return {
        refusal: {
          rule: 'kernel.descriptor-unapproved',
          reason: `a ${kind} cannot come from a listing of ${listed}`,
        },
      };
    }
    if (this.#isDuplicated(catalogue, target)) {
      return { pin: 'duplicate', refusal: duplicateRefusal(target) };
    }
    const found = this.#tracker(target);
    if (found === null || !('tracker' in found)) return found ?? undefined;
    return { pin: found.tracker.check(catalogue, found.name, descriptor) };
  }

  /**
   * Refuse calls to descriptors that changed (or appeared) since the catalogue was pinned.
   * A resource read is gated on the resource, and on every template it may have been read
   * through (templates.ts: one with that very URI, or whose pattern may match it). The
   * pins are read again first, in case a person approved the change meanwhile.
   */
  gate(kind: SyscallKind, target: string): CatalogueVerdict | undefined {
    const catalogue = CATALOGUE_OF[kind] as CatalogueKind;
    if (
      this.#isDuplicated(catalogue, target) ||
      (catalogue === 'resources' && this.#isDuplicated('templates', target))
    ) {
      return { pin: 'duplicate', refusal: duplicateRefusal(target) };
    }
    const found = this.#tracker(target);
    if (found === null || !('tracker' in found)) return found ?? undefined;
    const { tracker, name } = found;
    if (unapproved(tracker, catalogue, name) === undefined) return undefined;
    const refreshed = this.#refresh(found.tracker);
    if (refreshed) return refreshed;
    const judged = unapproved(tracker, catalogue, name);
    if (judged === undefined) return undefined;
    const through =
      judged.template === undefined ? '' : ` through template ${loggable(judged.template, 128)},`;
    return {
      pin: judged.state,
      refusal: {
        rule: 'kernel.descriptor-unapproved',
        reason: `${loggable(name, 128)}${through} is ${judged.state} since ${tracker.serverId}'s catalogue was pinned; review it, then run agentk pins approve --server-id ${tracker.serverId}`,
      },
    };
  }

  /**
   * A tool was described: remember whether its descriptor is suspect (only a tool's own
   * descriptor decides that) and the sink classes its annotations declare.
   */
  described(target: string, suspect: boolean, annotated: SinkMask): void {
    if (!suspect) this.#suspect.delete(target);
    else if (this.#suspect.size < MAX_CATALOG) this.#suspect.add(target);
    else this.#suspectOverflow = true;
    if (this.#annotated.size < MAX_CATALOG) this.#annotated.set(target, annotated);
  }

  markSuspect(target: string): void {
    if (this.#suspect.size < MAX_CATALOG) this.#suspect.add(target);
    else this.#suspectOverflow = true;
  }

  declareClient(server: string, capabilities: unknown): void {
    const paths = capabilityPaths(capabilities);
    if (this.#declared.size < MAX_CATALOG) this.#declared.set(server, paths);
    const tracker = this.#trackers.get(server);
    if (tracker && !(tracker instanceof AgentkError)) tracker.declare(paths);
  }

  /**
   * Read a tracker's pins again (a person may have approved a change): a refusal if they
   * became unreadable, and then the server's descriptors are refused for the run.
   */
  #refresh(tracker: CatalogueTracker): CatalogueVerdict | null {
    try {
      tracker.refresh();
      return null;
    } catch (error) {
      const failed =
        error instanceof AgentkError
          ? error
          : new AgentkError('MANIFEST_INVALID', `pins of ${tracker.serverId} are unusable`);
      this.#trackers.set(tracker.serverId, failed);
      return { refusal: { rule: 'kernel.pins-unusable', reason: failed.message } };
    }
  }

  /** Whether a tool may not be given secrets: its descriptor looked like an injection. */
  isSuspect(target: string): boolean {
    return this.#suspectOverflow || this.#suspect.has(target);
  }

  annotatedSinks(target: string): SinkMask | undefined {
    return this.#annotated.get(target);
  }

  #isDuplicated(kind: CatalogueKind, target: string): boolean {
    return this.#duplicatedOverflow || this.#duplicated.has(`${kind}/${target}`);
  }

  /**
   * A page of a server's listing of one kind is about to be described, with these names
   * (the first page starts a new listing). A name seen twice in one listing, on this page
   * or an earlier one, is a duplicate: every descriptor of it is refused, and so is every
   * use of it for the rest of the run, since which of them the server would run is its
   * choice and not what was judged. Describes outside a listing are not compared. In a
   * client capability window, the tracker previews the page first (tracker.ts).
   */
  beginPage(
    server: string,
    kind: CatalogueKind,
    names: readonly string[],
    descriptors: readonly unknown[],
    first: boolean,
  ): void {
    const key = `${server}/${kind}`;
    this.#openPages.set(key, names);
    let listed = this.#listed.get(key);
    if (first || !listed) {
      listed = new Set();
      if (this.#listed.size < MAX_CATALOG) this.#listed.set(key, listed);
    }
    for (const name of names) {
      const target = `${server}/${name}`;
      if (!listed.has(target)) {
        if (listed.size < MAX_CATALOG) listed.add(target);
      } else if (this.#duplicated.size < MAX_CATALOG) this.#duplicated.add(`${kind}/${target}`);
      else this.#duplicatedOverflow = true;
    }
    if (!this.#pins) return;
    const found = this.#tracker(`${server}/`);
    if (found === null || !('tracker' in found)) return;
    // A new listing: the pins may have been approved meanwhile, and the pending catalogue
    // of this kind becomes what this listing shows.
    if (first) {
      if (this.#refresh(found.tracker)) return;
      found.tracker.beginListing(kind);
    }
    found.tracker.previewPage(kind, names, descriptors);
  }

  /**
   * A page has been described: what it changed in the pins is written. After the last page
   * a first-use catalogue becomes the reference for what the server shows later in the run,
   * and the next listing starts afresh.
   */
  endPage(server: string, kind: CatalogueKind, last: boolean): void {
    this.#openPages.delete(`${server}/${kind}`);
    if (last) this.#listed.delete(`${server}/${kind}`);
    if (!this.#pins) return;
    const found = this.#tracker(`${server}/`);
    if (found === null || !('tracker' in found)) return;
    if (last) found.tracker.endListing(kind);
    else found.tracker.flush();
  }

  /** Write every tracker's unsaved pins (at close); a first-use page cut short pins nothing. */
  flush(): void {
    for (const [key, names] of this.#openPages) {
      const found = this.#tracker(`${key.slice(0, key.indexOf('/'))}/`);
      const kind = key.slice(key.indexOf('/') + 1) as CatalogueKind;
      if (found !== null && 'tracker' in found) found.tracker.abandonPage(kind, names);
    }
    for (const tracker of this.#trackers.values()) {
      if (!(tracker instanceof AgentkError)) tracker.flush();
    }
  }
}

/**
 * Why a use of `name` is refused, if it is: its descriptor is suspect, or (a resource read)
 * a template it may have been read through is.
 */
function unapproved(
  tracker: CatalogueTracker,
  catalogue: CatalogueKind,
  name: string,
): { state: PinState; template?: string } | undefined {
  const own = tracker.suspect(catalogue, name);
  if (own !== undefined) return { state: own };
  if (catalogue !== 'resources') return undefined;
  const exact = tracker.suspect('templates', name);
  if (exact !== undefined) return { state: exact };
  return tracker.suspectTemplate(name);
}

function duplicateRefusal(target: string): { rule: string; reason: string } {
  const slash = target.indexOf('/');
  return {
    rule: 'kernel.descriptor-unapproved',
    reason: `${loggable(target.slice(slash + 1), 128)} was listed more than once in one listing of ${loggable(target.slice(0, slash), 64)}: which descriptor would run is unknown, so it is refused for this run`,
  };
}
