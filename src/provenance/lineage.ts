// Value lineage: where a value first entered the session. A value the agent first sent in a
// clean argument, or first read in a trusted page, keeps that origin when an untrusted page
// shows it again later (a server's "wrote to X", a listing that includes the file just
// created): that echo is kept apart, and only an exec, a delete or a payment, or a tool
// only its annotations or schema classify, still takes its labels. The directories of such paths, and the roots the user configured, are structure:
// a prefix an argument shares with an untrusted page is not a copy of that page.
// Input distrusted: values come from pages and arguments; lineage only ever records where
// a value was seen first, never lowers what a page that showed it first gave it.

import type { Span } from './detect.js';
import { foldText, winnow } from './fingerprints.js';

/**
 * Where a value was first seen: `argument` (a clean argument), `page:<id>` (a trusted
 * page), or `root` (a path below a configured root, as an untrusted page showed it).
 */
export interface FirstSeen {
  readonly from: string;
  readonly step: number;
  /** An untrusted page has shown it since. */
  echoed: boolean;
}

/** Values whose first sighting is remembered, at most (beyond: no lineage, taint stays). */
const MAX_LINEAGE = 100_000;
/** Structure directories remembered, at most. */
const MAX_STRUCTURE = 10_000;
/** A directory counts as structure from this many components on (`/home/u`, not `/home`). */
const MIN_STRUCTURE_DEPTH = 2;

/** An absolute or home-relative path in text (the value index extracts paths with it too). */
export const PATH_IN_TEXT = /(?<![\w:/.~-])(?:~|\$HOME)?\/[\w.-]{1,255}(?:\/[\w.-]{1,255}){0,64}/g;
/**
 * This module's own copy, for exec loops that move its lastIndex: the exported one is
 * never moved, so that matchAll elsewhere (which starts at its lastIndex) starts at 0.
 */
const PATHS = new RegExp(PATH_IN_TEXT);

/** The raw text a normalised value stands for, and whether to look for it caselessly. */
function rawOf(value: string): { raw: string; caseless: boolean } | null {
  const colon = value.indexOf(':');
  const kind = value.slice(0, colon);
  const raw = value.slice(colon + 1);
  if (kind === 'path' || kind === 'id') return { raw, caseless: false };
  if (kind === 'url' || kind === 'email') return { raw, caseless: true };
  return null;
}

/** A path component that makes a path no plain workspace file: `.`, `..`, dotfiles, hooks. */
const HIDDEN_OR_RELATIVE = /(?:^|\/)\.[^/]*(?:\/|$)/;

export class LineageBook {
  readonly #first = new Map<string, FirstSeen>();
  readonly #structure = new Set<string>();
  /** The configured roots alone (a subset of the structure). */
  readonly #roots = new Set<string>();
  /** The user's home directory: it and its ancestors are never a root (too broad). */
  readonly #home: string;

  constructor(home = '') {
    this.#home = home.replace(/\/+$/, '');
  }

  get(value: string): FirstSeen | undefined {
    return this.#first.get(value);
  }

  /** A value seen clean for the first time (a path's directories become structure). */
  note(value: string, from: string, step: number): void {
    if (this.#first.has(value) || this.#first.size >= MAX_LINEAGE) return;
    this.#first.set(value, { from, step, echoed: false });
    if (value.startsWith('path:') && !HIDDEN_OR_RELATIVE.test(value.slice('path:'.length))) {
      const path = value.slice('path:'.length);
      for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
        this.addStructure(path.slice(0, end));
      }
    }
  }

  /** A directory that is structure (a configured root, or where the agent works). */
  addStructure(dir: string, root = false): void {
    const trimmed = dir.replace(/\/+$/, '');
    const depth = trimmed.split('/').filter((part) => part.length > 0).length;
    if (depth < MIN_STRUCTURE_DEPTH || this.#structure.size >= MAX_STRUCTURE) return;
    if (HIDDEN_OR_RELATIVE.test(trimmed)) return;
    // The home directory (or above it) as a root would make ~/.bashrc "the workspace's own".
    if (root && this.#home !== '' && `${this.#home}/`.startsWith(`${trimmed}/`)) return;
    this.#structure.add(trimmed);
    if (root) this.#roots.add(trimmed);
  }

  /**
   * Whether a path lies below a configured root: the user's own workspace, whose paths an
   * untrusted page shows because the server listed or echoed them (an attacker seldom
   * knows where the user keeps it).
   */
  underRoot(path: string): boolean {
    // Not `..` (it leaves the root), not a dotfile or a hook directory (`.git/hooks`).
    if (HIDDEN_OR_RELATIVE.test(path)) return false;
    for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
      if (this.#roots.has(path.slice(0, end))) return true;
    }
    return false;
  }

  /**
   * Spans a fingerprint must not cover in `canonical`: where `values` stand in it, and the
   * structure prefix of each path in it.
   */
  spans(canonical: string, values: Iterable<string>): Span[] {
    const spans: Span[] = [];
    let lower: string | null = null;
    for (const value of values) {
      const found = rawOf(value);
      if (!found || found.raw.length === 0) continue;
      if (found.caseless) lower ??= canonical.toLowerCase();
      // A caseless search needs positions that mean the same in both texts.
      const text = found.caseless ? (lower as string) : canonical;
      if (text.length !== canonical.length) continue;
      for (let at = text.indexOf(found.raw); at !== -1; at = text.indexOf(found.raw, at + 1)) {
        spans.push({ start: at, end: at + found.raw.length });
      }
    }
    // A path has a slash; the shared regex is reused with its lastIndex reset.
    if (this.#structure.size > 0 && canonical.includes('/')) {
      PATHS.lastIndex = 0;
      for (let match = PATHS.exec(canonical); match; match = PATHS.exec(canonical)) {
        const prefix = this.#longestStructure(match[0]);
        if (prefix > 0) spans.push({ start: match.index, end: match.index + prefix });
      }
    }
    return spans;
  }

  /** Length of the longest structure directory `path` starts with (0: none). */
  #longestStructure(path: string): number {
    for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
      if ((end === path.length || path[end] === '/') && this.#structure.has(path.slice(0, end))) {
        return end;
      }
    }
    return 0;
  }
}

/** Winnowed fingerprints of canonical text, no window covering any of `spans`. */
export function winnowOutside(canonical: string, spans: readonly Span[]): Set<number> {
  if (spans.length === 0) return winnow(foldText(canonical));
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out = new Set<number>();
  let from = 0;
  for (const span of [...sorted, { start: canonical.length, end: canonical.length }]) {
    if (span.start > from) {
      for (const print of winnow(foldText(canonical.slice(from, span.start)))) out.add(print);
    }
    from = Math.max(from, span.end);
  }
  return out;
}
