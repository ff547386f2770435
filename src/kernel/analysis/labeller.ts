// How a value gets its labels. Three ways in: a value flowing into a syscall (an argument,
// a body, a prompt) takes the labels of the earlier pages it came from (value provenance)
// and of what scanning it finds; content entering the model's context is labelled by its
// source and by scans; a reference to something the kernel already knows (a page, a
// handle, a memory) brings that thing's labels along.
// Input distrusted: every value and reference (unknown references fail closed).

import { sha256Hex } from '../../crypto/index.js';
import { findHandles } from '../../evidence/receipts.js';
import {
  INTEGRITY_TAINT,
  type LabelMask,
  labelsOf,
  maskOf,
  POISONED,
  PRIVATE,
  restrictionsOnly,
  SECRET,
  TRUSTED,
  UNTRUSTED,
} from '../../labels/labels.js';
import { containsSecret } from '../../provenance/detect.js';
import { looksInjected } from '../../provenance/injection.js';
import { withoutStructure } from '../../provenance/structure.js';
import {
  type DecodeBudget,
  decodeBudget,
  decodedForms,
  type LineageHit,
  type ValueOrigin,
} from '../../provenance/values.js';
import { SINK_EXEC } from '../../vocabulary.js';
import { type ContentReader, MAX_SCANNED_CONTENT } from '../content.js';
import { loggable } from '../loggable.js';
import type { InputRef } from '../types.js';
import type { Analysis, AnalysisState } from './analysis.js';

/** Pages named as the origin of a syscall's values, at most (the labels count them all). */
const MAX_PROVENANCE_HITS = 32;

/** Derives the labels of the values one syscall carries, into its Analysis. */
export class Labeller {
  readonly #a: Analysis;
  readonly #state: AnalysisState;
  readonly #reader: ContentReader;
  /** Decoding work shared by every value of the syscall (beyond it: fail closed). */
  readonly #budget: DecodeBudget = decodeBudget();

  constructor(analysis: Analysis, state: AnalysisState, reader: ContentReader) {
    this.#a = analysis;
    this.#state = state;
    this.#reader = reader;
  }

  /** The text of a value, read once per syscall (null: it cannot be scanned). */
  text(value: unknown): string | null {
    return this.#reader.text(value);
  }

  /** The hash the log keeps of a value, computed once per syscall. */
  hash(value: unknown): string {
    return this.#reader.hash(value);
  }

  /**
   * Hash, scan and trace one value that flows into this syscall. `evidence: false` for
   * values the event already keeps verbatim (the target); `control: false` for content
   * arguments, whose labels do not steer.
   */
  flow(name: string, value: unknown, evidence = true, control = true): void {
    const a = this.#a;
    const text = this.#reader.text(value);
    if (text === null || text.length > MAX_SCANNED_CONTENT) {
      a.refuse('kernel.content-too-large', `${name} exceeds the scan limit`);
      return;
    }
    const sha256 = evidence || control ? this.#reader.hash(value) : '';
    if (evidence) a.inputs.push({ ref: name, sha256 });
    if (control) a.controlRefs.push(`${name}=${sha256}`);
    a.raiseArg(this.#state.unindexedLabels, control);
    // As written, and as decoded: an encoded copy is still a copy. What could not be
    // decoded within the budget counts as private (fail closed).
    const decoded = decodedForms(text, this.#budget);
    if (decoded.exhausted) a.raiseArg(PRIVATE | UNTRUSTED, control);
    const origins: ValueOrigin[] = [];
    // An untrusted echo of a value the agent had cleanly before (lineage.ts) does not steer
    // a call that is not strict (Analysis.strictLineage: an exec, a delete or a payment, a
    // tool only its annotations or schema classify still takes its labels).
    const strict = a.strictLineage ?? true;
    let values: ReadonlySet<string> = new Set();
    for (const form of [text, ...decoded.forms]) {
      if (containsSecret(form)) a.raise(SECRET | PRIVATE);
      for (const handle of findHandles(form)) this.input({ handle });
      const found = this.#state.lookupValues(form, strict, control && (a.sinks & SINK_EXEC) !== 0);
      origins.push(...found.origins);
      if (strict) origins.push(...found.echoes);
      else this.#lineage(name, found.lineage);
      if (form === text) values = found.values;
    }
    // A clean control argument: if the syscall is allowed, its values' lineage starts here.
    const clean =
      !decoded.exhausted &&
      ((this.#state.unindexedLabels | origins.reduce((m, o) => m | o.labels, 0)) &
        INTEGRITY_TAINT) ===
        0;
    if (control && clean) a.cleanValues.push(...values);
    const pages = new Set<string>();
    for (const origin of origins) {
      a.raiseArg(origin.labels, control);
      if (pages.has(origin.pageId)) continue;
      pages.add(origin.pageId);
      if (a.provenance.length < MAX_PROVENANCE_HITS) {
        a.provenance.push({
          arg: name,
          page: origin.pageId,
          pageSha256: this.#state.page(origin.pageId)?.sha256 ?? '',
          labels: labelsOf(origin.labels),
        });
      }
    }
  }

  /** Echoes kept apart by lineage, as the event records them (hashes, never values). */
  #lineage(name: string, hits: readonly LineageHit[]): void {
    for (const hit of hits) {
      if (this.#a.lineage.length >= MAX_PROVENANCE_HITS) return;
      this.#a.detail.lineage ??= this.#a.lineage;
      this.#a.lineage.push({
        arg: name,
        kind: hit.value.slice(0, hit.value.indexOf(':')),
        sha256: sha256Hex(hit.value),
        first_seen: hit.from.startsWith('page:') ? hit.from.slice('page:'.length) : hit.from,
        first_seen_step: hit.step,
      });
    }
  }

  /**
   * Content that will enter the model's context: labelled by its source (`target`, unless
   * it is a `descriptor`), by `intrinsic` labels and by scans. A descriptor describes a
   * tool; it is not what the tool returns, so the source labels of the tool's output (a
   * mail reader's `private`) do not apply to it, and it is written to tell the model how
   * to use the tool (injection.ts reads it as such).
   */
  content(target: string, value: unknown, intrinsic: LabelMask, descriptor = false): void {
    const a = this.#a;
    let mask = intrinsic | (descriptor ? 0 : this.#state.policy.sourceLabels(target));
    if (value !== undefined) {
      const text = this.#reader.text(value);
      if (text === null || text.length > MAX_SCANNED_CONTENT) {
        a.refuse('kernel.content-too-large', 'content exceeds the scan limit');
        return;
      }
      a.contentHash = this.#reader.hash(value);
      // What the value index learns from the page: the text without the fields the policy
      // calls structure (scans below still read all of it).
      const structure = descriptor ? null : this.#state.policy.structureFields(target);
      a.contentText =
        structure === null ? text : (this.#reader.text(withoutStructure(value, structure)) ?? text);
      a.inputs.push({ ref: 'content', sha256: a.contentHash });
      if (containsSecret(text)) mask |= SECRET | PRIVATE;
      // A handle stands for a secret: the content is not secret, but it is the user's.
      if (findHandles(text).length > 0) mask |= PRIVATE;
      if (looksInjected(text, descriptor ? 'descriptor' : 'content')) mask |= POISONED | UNTRUSTED;
    }
    // Content from a source no policy pattern vouches for is not trusted.
    if ((mask & (TRUSTED | INTEGRITY_TAINT)) === 0) mask |= UNTRUSTED;
    a.raise(mask);
  }

  /** Add an input reference's evidence and labels; unknown references fail closed. */
  input(ref: InputRef): void {
    if ('page' in ref) this.#page(ref.page);
    else if ('handle' in ref) this.#handle(ref.handle);
    else if ('memory' in ref) this.#memory(ref.memory);
    else {
      const mask = restrictionsOnly(maskOf(ref.labels ?? []));
      this.#a.raise(mask);
      this.#a.inputs.push({
        ref: 'sha256',
        sha256: ref.sha256,
        ...(mask ? { labels: labelsOf(mask) } : {}),
      });
    }
  }

  #page(id: string): void {
    const page = this.#state.page(id);
    if (!page) {
      this.#a.refuseUnlessRefused('kernel.unknown-input', `no page ${id} in this run`);
      return;
    }
    this.#a.raise(page.mask);
    this.#a.inputs.push({ labels: page.labels, ref: `page:${page.id}`, sha256: page.sha256 });
  }

  #handle(id: string): void {
    const a = this.#a;
    if (a.handles.includes(id)) return;
    a.raise(SECRET | PRIVATE);
    const labels = this.#state.handleLabels(id);
    if (!labels) {
      a.refuseUnlessRefused('kernel.unknown-input', 'unknown secret handle');
      return;
    }
    a.handles.push(id);
    a.inputs.push({ ref: `handle:${id}`, sha256: sha256Hex(id), labels });
  }

  #memory(key: string): void {
    const memory = this.#state.memory(key);
    if (!memory) {
      this.#a.refuseUnlessRefused(
        'kernel.unknown-input',
        `no memory ${JSON.stringify(loggable(key, 256))}`,
      );
      return;
    }
    this.#a.raise(memory.labels);
    this.#a.inputs.push({
      ref: `memory:${loggable(key, 256)}`,
      sha256: memory.sha256,
      labels: labelsOf(memory.labels),
    });
  }
}
