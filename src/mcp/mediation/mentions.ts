// Shadowing: a descriptor whose description or title names another tool of the same
// server is trying to steer how the model uses that tool. A name is mentioned where it
// appears, case-insensitively, with no word character or hyphen right before or after it.
// Linear in the listing: the names go into one index, and each text is cut once into its
// runs of word characters and hyphens; a name made of several runs (`files.read`) is found
// by joining up to its number of runs, so the work per text is its length times the most
// runs any name has (bounded), never the number of names.
// Input distrusted: the names and the texts (the server's).

/** Names shorter than this are common words; they are not looked for. */
const MIN_NAME = 4;
/** Runs per name looked for at most: a name cut into more pieces is not looked for. */
const MAX_RUNS = 16;

const RUN = /[\w-]+/g;

interface Run {
  readonly start: number;
  readonly end: number;
}

function runsOf(text: string): Run[] {
  const runs: Run[] = [];
  for (const match of text.matchAll(RUN)) {
    runs.push({ start: match.index, end: match.index + match[0].length });
  }
  return runs;
}

/** The tool names of one listing page, indexed for finding them in text. */
/**
 * Telling the model how or when to use another tool, as shadowing does ("every time
 * send_email is called, the assistant must add ..."), rather than pointing at it ("clears
 * what git_set_working_dir set", "DEPRECATED: use read_text_file instead").
 */
const STEERING =
  /\b(?:must|should|need to|needs to|has to|have to|always|never|every time|each time|whenever|before (?:every|each|any|you|answering|using|calling|running)|do not|don't|instead of|required to|make sure|ensure|also (?:add|include|send|call|copy|forward|cc|bcc|attach|set|put))\b/i;
/** A value an instruction could plant: a URL, an address, a path. */
const CARRIES_VALUE =
  /(?<![\w+.-])[a-z][\w+.-]{0,31}:\/\/|(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]{1,253}|(?:^|[\s'"(])[~/][\w.-]{1,255}\//i;
/** Characters of a description looked at for steering, at most. */
const MAX_SAID = 8192;

export class ToolMentions {
  /** Lower-cased name -> indices in the listing (in order) of the names that fold to it. */
  readonly #index = new Map<string, number[]>();
  readonly #names: readonly string[];
  #maxRuns = 0;

  constructor(names: readonly string[]) {
    this.#names = names;
    names.forEach((name, i) => {
      if (name.length < MIN_NAME) return;
      const runs = runsOf(name);
      // Only a name that starts and ends with a run can be bounded by non-run characters.
      const first = runs[0];
      const last = runs[runs.length - 1];
      if (!first || !last || first.start !== 0 || last.end !== name.length) return;
      if (runs.length > MAX_RUNS) return;
      this.#maxRuns = Math.max(this.#maxRuns, runs.length);
      const key = name.toLowerCase();
      const indices = this.#index.get(key);
      if (indices) indices.push(i);
      else this.#index.set(key, [i]);
    });
  }

  /**
   * The first tool (in listing order) other than `own` whose name a descriptor's
   * description or title mentions, if any.
   */
  mentionedIn(descriptor: Record<string, unknown>, own: string): string | undefined {
    return this.mention(descriptor, own)?.name;
  }

  /**
   * The tool a descriptor names, and whether it steers: tells the model how or when to use
   * a tool (must, always, before every call, do not, ...), or carries a URL, an address or
   * a path an instruction could plant. A plain pointer ("DEPRECATED: use read_text_file
   * instead", "unless git_set_working_dir is called again") does not.
   */
  mention(
    descriptor: Record<string, unknown>,
    own: string,
  ): { readonly name: string; readonly steers: boolean } | undefined {
    const name = this.#mentioned(descriptor, own);
    if (name === undefined) return undefined;
    const text = [descriptor.description, descriptor.title].filter((p) => typeof p === 'string');
    const said = text.join('\n').slice(0, MAX_SAID);
    return { name, steers: STEERING.test(said) || CARRIES_VALUE.test(said) };
  }

  #mentioned(descriptor: Record<string, unknown>, own: string): string | undefined {
    if (this.#index.size === 0) return undefined;
    const text = [descriptor.description, descriptor.title]
      .filter((part): part is string => typeof part === 'string')
      .join('\n')
      .toLowerCase();
    const runs = runsOf(text);
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < runs.length; i++) {
      const start = (runs[i] as Run).start;
      for (let j = i; j < runs.length && j < i + this.#maxRuns; j++) {
        const indices = this.#index.get(text.slice(start, (runs[j] as Run).end));
        for (const index of indices ?? []) {
          if (index < best && this.#names[index] !== own) best = index;
        }
      }
    }
    return Number.isFinite(best) ? this.#names[best] : undefined;
  }
}
