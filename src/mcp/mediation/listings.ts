// Catalogue listings (tools/list, resources/list, resources/templates/list, prompts/list):
// each descriptor is a describe syscall, so its text is labelled and pinned, and a
// descriptor the kernel denies (poisoned, changed since pinned, always denied) is hidden
// from the list. A description that names another tool of the server is shadowing and is
// marked poisoned-suspect. Cursors the server issues are remembered, so that a client can
// only page with those.
// Input distrusted: the server's listing.

import type { Kernel } from '../../kernel/kernel.js';
import { errorLine, RPC, type RpcRequest } from '../jsonrpc.js';
import { isRecord } from './methods.js';

/** List cursors remembered per session (only cursors the server issued are forwarded). */
const MAX_CURSORS = 4096;
/** Entries of one listing at most. */
const MAX_ENTRIES = 10_000;

interface ListSpec {
  readonly key: string;
  readonly kind: 'tool.describe' | 'resource.describe' | 'prompt.describe';
  readonly catalogue: 'tools' | 'resources' | 'prompts';
  nameOf(descriptor: Record<string, unknown>): unknown;
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
  },
  'resources/templates/list': {
    key: 'resourceTemplates',
    kind: 'resource.describe',
    catalogue: 'resources',
    nameOf: (d) => d.uriTemplate,
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

/** The name of another tool of the same catalogue that a descriptor's text mentions, if any. */
function mentionsOtherTool(
  descriptor: Record<string, unknown>,
  own: string,
  names: readonly string[],
): string | undefined {
  const text = [descriptor.description, descriptor.title]
    .filter((part): part is string => typeof part === 'string')
    .join('\n');
  if (text === '') return undefined;
  return names.find((name) => {
    if (name === own || name.length < 4) return false;
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`, 'i').test(text);
  });
}

export class Listings {
  readonly #kernel: Kernel;
  readonly #serverId: string;
  /** Tools that declared an output schema: their denials carry no structuredContent. */
  readonly #schemaTools = new Set<string>();
  /** `method\0cursor` for every nextCursor the server returned. */
  readonly #cursors = new Set<string>();

  constructor(kernel: Kernel, serverId: string) {
    this.#kernel = kernel;
    this.#serverId = serverId;
  }

  hasSchema(tool: string): boolean {
    return this.#schemaTools.has(tool);
  }

  /** Whether the server issued this cursor for this method in this session. */
  issued(method: string, cursor: string): boolean {
    return this.#cursors.has(`${method}\0${cursor}`);
  }

  /** A listing headed to the client: one describe syscall per entry, denied ones hidden. */
  answer(request: RpcRequest, result: unknown, rawLine: () => string): string {
    const spec = LISTS[request.method] as ListSpec;
    const list = isRecord(result) ? result[spec.key] : undefined;
    if (!Array.isArray(list) || list.length > MAX_ENTRIES) {
      return errorLine(
        request.id,
        RPC.badResponse,
        `downstream server returned a malformed ${request.method} result (no ${spec.key} list)`,
      );
    }
    this.#remember(request.method, isRecord(result) ? result.nextCursor : undefined);
    const names = this.#names(list, spec);
    if (names === null) {
      return errorLine(
        request.id,
        RPC.badResponse,
        `downstream server returned a malformed ${request.method} entry`,
      );
    }
    const kept = this.#describe(list as Record<string, unknown>[], names, spec);
    this.#kernel.endCatalogueListing(this.#serverId, spec.catalogue);
    if (kept.length === list.length) return rawLine();
    return JSON.stringify({
      jsonrpc: '2.0',
      id: request.id,
      result: { ...(result as object), [spec.key]: kept },
    });
  }

  /**
   * Bounded: past the cap the oldest cursors are forgotten (a client using one then gets a
   * clear error and lists again from the start).
   */
  #remember(method: string, next: unknown): void {
    if (typeof next !== 'string' || next.length > 4096) return;
    if (this.#cursors.size >= MAX_CURSORS)
      this.#cursors.delete(this.#cursors.values().next().value as string);
    this.#cursors.add(`${method}\0${next}`);
  }

  /** Every entry's name, or null when an entry is not a descriptor with a name. */
  #names(list: readonly unknown[], spec: ListSpec): string[] | null {
    const names: string[] = [];
    for (const descriptor of list) {
      const name = isRecord(descriptor) ? spec.nameOf(descriptor) : undefined;
      if (typeof name !== 'string' || name.length === 0 || name.length > 4096) return null;
      names.push(name);
    }
    return names;
  }

  /** The entries the kernel allows into context, in order. */
  #describe(list: readonly Record<string, unknown>[], names: string[], spec: ListSpec): unknown[] {
    const kept: unknown[] = [];
    list.forEach((descriptor, i) => {
      const name = names[i] as string;
      // A description that names another tool is trying to steer the model (shadowing).
      const mentions = mentionsOtherTool(descriptor, name, names);
      const decision = this.#kernel.syscall({
        kind: spec.kind,
        target: `${this.#serverId}/${name}`,
        descriptor,
        ...(mentions
          ? { labels: ['poisoned-suspect'], intent: `its description names ${mentions}` }
          : {}),
      });
      if (!decision.allowed) return;
      kept.push(descriptor);
      if (spec.kind === 'tool.describe' && isRecord(descriptor.outputSchema)) {
        this.#schemaTools.add(name);
      }
    });
    return kept;
  }
}
