// Commands too short for the fingerprints to be sure of (fewer than GUARANTEED_MATCH
// characters: `pkill -9 node`, `chmod -R 777 .`), copied verbatim from a tainted page into
// what an exec sink runs. The folded text of tainted pages is kept (bounded: the oldest
// goes first) and searched when a command is looked up; exec calls are rare, pages many.
// Input distrusted: page text and the command.

import { foldText, GUARANTEED_MATCH } from './fingerprints.js';

/** Folded text kept for the search, at most (characters). */
const MAX_KEPT_TEXT = 16 << 20;
/** A command shorter than this (folded) is not looked for verbatim: `ls`, `pwd`. */
const MIN_SHORT_COMMAND = 6;
/** What makes a text a command with an argument or an operator, not a single word. */
const COMMAND_SHAPE = /[\s|;&$<>`]/;
const WORD = /[a-z0-9]/;

export class ShortCopies<Origin> {
  readonly #texts: { folded: string; origin: Origin }[] = [];
  #chars = 0;

  /** Keep a tainted page's text, folded (foldText, as the value index fingerprints it). */
  keep(folded: string, origin: Origin): void {
    if (folded.length > MAX_KEPT_TEXT) return;
    this.#texts.push({ folded, origin });
    this.#chars += folded.length;
    while (this.#chars > MAX_KEPT_TEXT) {
      const dropped = this.#texts.shift() as { folded: string };
      this.#chars -= dropped.folded.length;
    }
  }

  /**
   * The kept pages that show `canonical` verbatim as a command of its own (no letter or
   * digit right before or after it), when it is a command (a space or an operator in it)
   * too short for the fingerprints.
   */
  find(canonical: string): Origin[] {
    const needle = foldText(canonical);
    if (needle.length < MIN_SHORT_COMMAND || needle.length >= GUARANTEED_MATCH) return [];
    if (!COMMAND_SHAPE.test(needle)) return [];
    const out: Origin[] = [];
    for (const { folded, origin } of this.#texts) {
      for (let at = folded.indexOf(needle); at !== -1; at = folded.indexOf(needle, at + 1)) {
        const before = folded[at - 1];
        const after = folded[at + needle.length];
        if (
          (before === undefined || !WORD.test(before)) &&
          (after === undefined || !WORD.test(after))
        ) {
          out.push(origin);
          break;
        }
      }
    }
    return out;
  }
}
