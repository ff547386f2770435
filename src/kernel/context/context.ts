// The context stage: what each agent's model has seen. Content that entered a context is
// a page (id, hash, source, labels); a session's context label is the join of its pages
// and only grows; the value index remembers the pages' values (and every secret seen), so
// that a later argument carrying one takes that page's labels. Also the agents spawned in
// the run (a child inherits its parent's context label) and the memories written.
// Input distrusted: page text (indexed within budgets; beyond them, fail closed).

import { sha256Hex } from '../../crypto/index.js';
import { joinMasks, type LabelMask, labelsOf, POISONED } from '../../labels/labels.js';
import { type Lookup, ValueIndex, type ValueOrigin } from '../../provenance/values.js';
import type { MemoryEntry, StoredPage } from '../analysis/analysis.js';
import { workspaceRoot } from '../analysis/values.js';
import { loggable } from '../loggable.js';
import type { ContextPage, SyscallRequest } from '../types.js';

/** Context pages kept for provenance reports and `{page}` inputs. */
export const MAX_PAGES = 65_536;
/** Workspace roots kept, at most (the client declares up to 64 at a time). */
const MAX_ROOTS = 128;

export interface Session {
  readonly id: string;
  readonly parent: string | null;
  context: LabelMask;
}

/** What a page is made of: the labels, hash and text the analysis derived. */
export interface PageContent {
  readonly labels: LabelMask;
  readonly contentHash: string | null;
  readonly contentText: string | null;
}

/** What an allowed syscall did to the context: a page entered, or an agent was spawned. */
export interface ContextEffect {
  readonly page: ContextPage | null;
  readonly child: string | null;
}

export const NO_EFFECT: ContextEffect = { page: null, child: null };

function publicPage(page: StoredPage): ContextPage {
  const { mask: _mask, ...info } = page;
  return info;
}

export class ContextStore {
  readonly #sessions = new Map<string, Session>();
  readonly #pages = new Map<string, StoredPage>();
  #pageCount = 0;
  readonly #index = new ValueIndex();
  /**
   * Pages whose text is not in the value index yet (addPage). They are indexed before the
   * index is next read or written (#values), so no syscall is ever decided without them;
   * settle() indexes them sooner, when a caller has time (a proxy, once it has sent the
   * answer on).
   */
  #toIndex: { id: string; labels: LabelMask; text: string; step: number }[] = [];
  readonly #memory = new Map<string, MemoryEntry>();
  /** Replaced, never changed in place: a decision's values keep the roots they saw. */
  #roots: readonly string[] = [];

  /** The value index, with every page added so far in it. */
  get #values(): ValueIndex {
    if (this.#toIndex.length > 0) this.settle();
    return this.#index;
  }

  /** Index the text of the pages added since the index was last used (see #toIndex). */
  settle(): void {
    const pages = this.#toIndex;
    this.#toIndex = [];
    for (let i = 0; i < pages.length; i++) {
      const page = pages[i] as (typeof pages)[number];
      try {
        this.#index.add(page.id, page.labels, page.text, page.step);
      } catch (error) {
        // Kept for the next use of the index, which fails the same way: never decided without.
        this.#toIndex = [...pages.slice(i), ...this.#toIndex];
        throw error;
      }
    }
  }

  constructor(rootAgent: string, roots: readonly string[] = []) {
    this.#sessions.set(rootAgent, { id: rootAgent, parent: null, context: 0 });
    for (const root of roots) this.addRoot(root);
  }

  /**
   * A person cleared `agent`'s compromised session (`clear`): its `poisoned-suspect`
   * context label goes; a new page that reads as an injection sets it again.
   */
  clearCompromise(agent: string | undefined, clear: boolean | undefined): void {
    const session = clear === true && agent !== undefined ? this.#sessions.get(agent) : undefined;
    if (session) session.context &= ~POISONED;
  }

  session(agent: string): Session | undefined {
    return this.#sessions.get(agent);
  }

  hasAgent(id: string): boolean {
    return this.#sessions.has(id);
  }

  page(id: string): StoredPage | undefined {
    return this.#pages.get(id);
  }

  /** A page as callers see it (without its mask). */
  publicPage(id: string): ContextPage | undefined {
    const page = this.#pages.get(id);
    return page ? publicPage(page) : undefined;
  }

  memory(key: string): MemoryEntry | undefined {
    return this.#memory.get(key);
  }

  lookupValues(text: string, strict = false, command = false): Lookup {
    return this.#values.lookup(text, strict, command);
  }

  /** A directory the user configured as a root: structure, not content. */
  addRoot(dir: string): void {
    this.#values.addStructure(dir);
    const root = workspaceRoot(dir);
    if (root !== null && !this.#roots.includes(root) && this.#roots.length < MAX_ROOTS) {
      this.#roots = [...this.#roots, root];
    }
  }

  /** The workspace roots (what `${workspace}` in a policy stands for). */
  get roots(): readonly string[] {
    return this.#roots;
  }

  /** Values an allowed syscall carried in clean control arguments (their lineage starts). */
  noteClean(values: Iterable<string>, step: number): void {
    this.#values.noteClean(values, step);
  }

  get unindexedLabels(): LabelMask {
    return this.#values.unindexedLabels;
  }

  /** A secret seen in content: an argument echoing it (raw or encoded) is secret. */
  addSecret(value: string, origin: ValueOrigin): void {
    this.#values.addSecret(value, origin);
  }

  /**
   * An allowed syscall takes effect on the context (its event is on record): content it
   * brings becomes a page, a memory is written, a child agent starts.
   */
  take(
    request: SyscallRequest,
    session: Session,
    analysis: PageContent,
    step: number,
  ): ContextEffect {
    switch (request.kind) {
      case 'context.read':
      case 'tool.describe':
      case 'resource.describe':
      case 'prompt.describe':
      case 'tool.response':
      case 'resource.response':
      case 'prompt.response':
        return { page: this.addPage(session, request.target, analysis, step), child: null };
      case 'memory.write':
        this.#memory.set(request.target, {
          labels: analysis.labels,
          sha256: analysis.contentHash ?? '',
          step,
        });
        return NO_EFFECT;
      case 'agent.spawn':
        this.#sessions.set(request.target, {
          id: request.target,
          parent: session.id,
          context: session.context,
        });
        return { page: null, child: request.target };
      default:
        return NO_EFFECT;
    }
  }

  /** Content entered `session`'s context: a new page, and the session's label joins it. */
  addPage(session: Session, source: string, content: PageContent, step: number): ContextPage {
    const id = `p${++this.#pageCount}`;
    const page: StoredPage = {
      id,
      sha256: content.contentHash ?? sha256Hex(''),
      source: loggable(source, 512),
      labels: labelsOf(content.labels),
      step,
      agent: session.id,
      mask: content.labels,
    };
    this.#pages.set(id, page);
    // The oldest page's labels live on in the session label and the value index; only its
    // entry (for provenance reports and `{page}` inputs) goes. Named by its number: asking
    // the map for its first key walks past every entry deleted since the map was last
    // compacted, up to 65,536 of them per page in a long session.
    if (this.#pageCount > MAX_PAGES) this.#pages.delete(`p${this.#pageCount - MAX_PAGES}`);
    session.context = joinMasks(session.context, content.labels);
    if (content.contentText) {
      this.#toIndex.push({ id, labels: content.labels, text: content.contentText, step });
    }
    return publicPage(page);
  }
}
