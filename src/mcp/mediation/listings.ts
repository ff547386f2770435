// Catalogue listings (tools/list, resources/list, resources/templates/list, prompts/list):
// each descriptor is a describe syscall, so its text is labelled and pinned, and a
// descriptor the kernel denies (poisoned, changed since pinned, listed twice, always
// denied) is hidden from the list. A description that names another tool of the server is
// shadowing (mentions.ts) and is marked poisoned-suspect; a name listed twice in one
// listing is refused by the kernel (its catalogue stage). What a result carries besides its descriptors (`_meta`,
// `nextCursor`) is checked for credentials like any answer. A listing runs from a request
// without a cursor to the page without a `nextCursor`; cursors the server issues are
// remembered, so that a client can only page with those.
// Input distrusted: the server's listing.

import type { CatalogueKind } from '../../kernel/catalogue/pins.js';
import type { Kernel } from '../../kernel/kernel.js';
import { errorLine, RPC, type RpcRequest } from '../jsonrpc.js';
import { ToolMentions } from './mentions.js';
import { isRecord } from './methods.js';

/** List cursors remembered per session (only cursors the server issued are forwarded). */
const MAX_CURSORS = 4096;
/** Entries of one listing at most. */
const MAX_ENTRIES = 10_000;

interface ListSpec {
  readonly key: string;
  readonly kind: 'tool.describe' | 'resource.describe' | 'prompt.describe';
  readonly catalogue: CatalogueKind;
  nameOf(descriptor: Record<string, unknown>): unknown;
  /**
   * The member that names an entry of the other resource list (`uri`, `uriTemplate`): an
   * entry that has it is malformed, whichever catalogue it would pass for.
   */
  readonly foreign?: string;
}

const LISTS: Readonly<Record<string, ListSpec>> = {
  'tools/list': {
    key: 'tools',
    kind: 'tool.describe',
    catalogue: 'tools',
    nameOf: (d) => d.name,
  },
  'resources/list': {
    key: 'resources',
    kind: 'resource.describe',
    catalogue: 'resources',
    nameOf: (d) => d.uri,
    foreign: 'uriTemplate',
  },
  'resources/templates/list': {
    key: 'resourceTemplates',
    kind: 'resource.describe',
    catalogue: 'templates',
    nameOf: (d) => d.uriTemplate,
    foreign: 'uri',
  },
  'prompts/list': {
    key: 'prompts',
    kind: 'prompt.describe',
    catalogue: 'prompts',
    nameOf: (d) => d.name,
  },
};

export function isListing(method: string): boolean {
  return LISTS[method] !== undefined;
}

export class Listings {
  readonly #kernel: Kernel;
  readonly #serverId: string;
  /** Tools that declared an output schema: their denials carry no structuredContent. */
  readonly #schemaTools = new Set<string>();
  /** `method\0cursor` as the client saw it -> the server's cursor, for every nextCursor. */
  readonly #cursors = new Map<string, string>();

  constructor(kernel: Kernel, serverId: string) {
    this.#kernel = kernel;
    this.#serverId = serverId;
  }

  hasSchema(tool: string): boolean {
    return this.#schemaTools.has(tool);
  }

  /** The server's cursor for one the client pages with, if the server issued it. */
  serverCursor(method: string, cursor: string): string | undefined {
    return this.#cursors.get(`${method}\0${cursor}`);
  }

  /** How many entries a listing's result holds (0 when it holds no list). */
  static entries(method: string, result: unknown): number {
    const spec = LISTS[method];
    const list = spec && isRecord(result) ? result[spec.key] : undefined;
    return Array.isArray(list) ? list.length : 0;
  }

  /** A listing headed to the client: one describe syscall per entry, denied ones hidden. */
  answer(request: RpcRequest, result: unknown, rawLine: () => string): string {
    const job = this.start(request, result, rawLine);
    if (typeof job === 'string') return job;
    job.step(Number.POSITIVE_INFINITY);
    return job.finish();
  }

  /**
   * Begin a listing's answer: the line for the client at once if the result is malformed,
   * else the job that describes its entries (see ListingJob).
   */
  start(request: RpcRequest, result: unknown, rawLine: () => string): string | ListingJob {
    const spec = LISTS[request.method] as ListSpec;
    const list = isRecord(result) ? result[spec.key] : undefined;
    const names =
      Array.isArray(list) && list.length <= MAX_ENTRIES ? this.#names(list, spec) : null;
    if (!isRecord(result) || names === null) {
      const what = Array.isArray(list) ? 'entry' : `result (no ${spec.key} list)`;
      return errorLine(
        request.id,
        RPC.badResponse,
        `downstream server returned a malformed ${request.method} ${what}`,
      );
    }
    const first = request.params?.cursor === undefined;
    this.#kernel.listings.beginPage(
      this.#serverId,
      spec.catalogue,
      names,
      list as unknown[],
      first,
    );
    // Everything but the descriptors: credentials in it become handles, as in any answer.
    const { [spec.key]: _list, ...rest } = result;
    const { content } = this.#kernel.captureSecrets(rest, `${this.#serverId}/${request.method}`);
    const page: Page = {
      request,
      spec,
      list: list as Record<string, unknown>[],
      names,
      rest,
      others: content as Record<string, unknown>,
      rawLine,
    };
    return new ListingJob(this, page);
  }

  /** The entry at `i` of a page, described: whether the kernel lets it into context. */
  describe(page: Page, mentions: ToolMentions, i: number): boolean {
    const { spec, names } = page;
    const descriptor = page.list[i] as Record<string, unknown>;
    const name = names[i] as string;
    // A description that names another tool is trying to steer the model (shadowing).
    // A description that tells the model when or how to call another tool is shadowing
    // (poisoned-suspect); one that only points at it ("use read_text_file instead") makes
    // the tool suspect (no secret is revealed to it) without compromising the session.
    const mention = mentions.mention(descriptor, name);
    const target = `${this.#serverId}/${name}`;
    const decision = this.#kernel.syscall(
      {
        kind: spec.kind,
        target,
        descriptor,
        ...(mention ? { intent: `its description names ${mention.name}` } : {}),
        ...(mention?.steers ? { labels: ['poisoned-suspect'] } : {}),
      },
      { catalogue: spec.catalogue },
    );
    if (mention) this.#kernel.listings.markSuspect(target);
    if (!decision.allowed) return false;
    if (spec.kind === 'tool.describe' && isRecord(descriptor.outputSchema)) {
      this.#schemaTools.add(name);
    }
    return true;
  }

  /** Every entry of a page has been described: the page ends, and the client's line. */
  end(page: Page, kept: readonly unknown[]): string {
    const { request, spec, rest, others } = page;
    const next = rest.nextCursor;
    this.#kernel.listings.endPage(this.#serverId, spec.catalogue, typeof next !== 'string');
    if (typeof next === 'string') this.#remember(request.method, next, others.nextCursor);
    if (kept.length === page.names.length && others === rest) return page.rawLine();
    return JSON.stringify({
      jsonrpc: '2.0',
      id: request.id,
      result: { ...others, [spec.key]: kept },
    });
  }

  /**
   * Remember a cursor the server issued, under what the client was shown of it (a handle,
   * if it held a credential). Bounded: past the cap the oldest cursors are forgotten (a
   * client using one then gets a clear error and lists again from the start).
   */
  #remember(method: string, next: string, shown: unknown): void {
    if (next.length > 4096 || typeof shown !== 'string') return;
    if (this.#cursors.size >= MAX_CURSORS)
      this.#cursors.delete(this.#cursors.keys().next().value as string);
    this.#cursors.set(`${method}\0${shown}`, next);
  }

  /**
   * Every entry's name, or null when an entry is not a descriptor with a name, or names
   * itself as an entry of the other resource list too (a template with a `uri`).
   */
  #names(list: readonly unknown[], spec: ListSpec): string[] | null {
    const names: string[] = [];
    for (const descriptor of list) {
      if (!isRecord(descriptor) || (spec.foreign && Object.hasOwn(descriptor, spec.foreign))) {
        return null;
      }
      const name = spec.nameOf(descriptor);
      if (typeof name !== 'string' || name.length === 0 || name.length > 4096) return null;
      names.push(name);
    }
    return names;
  }
}

/** One page of a listing, as received and checked. */
interface Page {
  readonly request: RpcRequest;
  readonly spec: ListSpec;
  readonly list: readonly Record<string, unknown>[];
  readonly names: readonly string[];
  /** The result without its descriptors, as received, and as the client may see it. */
  readonly rest: Record<string, unknown>;
  readonly others: Record<string, unknown>;
  readonly rawLine: () => string;
}

/**
 * A listing's entries, described a slice at a time, in order: a proxy can give the event
 * loop back between slices (timers, signals, other messages), so that a listing of
 * thousands of tools does not stall the session. Between slices, each entry described so
 * far is judged and recorded, the rest not yet; the names of the whole page were
 * registered when it began (a duplicate is refused wherever it stands).
 */
export class ListingJob {
  readonly #listings: Listings;
  readonly #page: Page;
  readonly #mentions: ToolMentions;
  readonly #kept: unknown[] = [];
  #next = 0;

  constructor(listings: Listings, page: Page) {
    this.#listings = listings;
    this.#page = page;
    this.#mentions = new ToolMentions(page.names);
  }

  /** Entries still to describe. */
  get remaining(): number {
    return this.#page.names.length - this.#next;
  }

  /** Describe up to `max` more entries; true once every entry has been. */
  step(max: number): boolean {
    const end = Math.min(this.#page.names.length, this.#next + max);
    for (; this.#next < end; this.#next += 1) {
      if (this.#listings.describe(this.#page, this.#mentions, this.#next)) {
        this.#kept.push(this.#page.list[this.#next]);
      }
    }
    return this.remaining === 0;
  }

  /** After the last step: the page ends, and the line the client receives. */
  finish(): string {
    return this.#listings.end(this.#page, this.#kept);
  }
}
