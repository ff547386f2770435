// Sink classification of a tool-like target: policy patterns first, then name heuristics,
// and a target nothing classifies is treated as the most sensitive plausible classes.
// Input distrusted: tool names chosen by servers (a tool may call itself "read_notes" and
// send mail; the policy's patterns override the name, and #5 adds MCP annotations).

import {
  SINK_DESTRUCTIVE,
  SINK_EGRESS,
  SINK_EXEC,
  SINK_READ,
  SINK_WRITE,
  type SinkMask,
  UNCLASSIFIED_SINKS,
} from '../vocabulary.js';

// Words in a tool's name, by the sink class they suggest. A name may hit several classes
// (`fetch` reads and reaches the open world); the classes are joined.
const HEURISTICS: readonly (readonly [SinkMask, string])[] = [
  [
    SINK_EXEC,
    'exec execute shell bash sh zsh cmd command run terminal eval script spawn python node ' +
      'powershell subprocess',
  ],
  [
    SINK_EGRESS,
    'send post upload email mail http https fetch request webhook publish share tweet message ' +
      'notify slack sms invite comment curl wget browse navigate url api push forward reply ' +
      // Searches and lookups usually reach the open world: their arguments leave the machine.
      'search lookup query web',
  ],
  [
    SINK_DESTRUCTIVE,
    'delete remove rm drop destroy truncate wipe kill purge transfer pay payment purchase buy ' +
      'refund wire withdraw format',
  ],
  [
    SINK_WRITE,
    'write edit create update patch save move rename mkdir set put insert append commit add ' +
      'modify replace store upsert',
  ],
  [
    SINK_READ,
    'read get list search find view show query describe info stat head tree lookup retrieve ' +
      'open echo count status diff log print cat load check fetch browse navigate scrape crawl ' +
      'download',
  ],
];

const WORD_TO_SINK = new Map<string, SinkMask>();
for (const [sink, words] of HEURISTICS) {
  for (const word of words.split(' ')) WORD_TO_SINK.set(word, (WORD_TO_SINK.get(word) ?? 0) | sink);
}

/** Split a name into lowercase words: `sendEmail`, `send_email`, `send-email` -> send, email. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
}

/** Sink classes from the words of a tool's own name (the part after the last `/`). */
export function heuristicSinks(target: string): SinkMask {
  const name = target.slice(target.lastIndexOf('/') + 1);
  let mask = 0;
  for (const word of nameWords(name)) mask |= WORD_TO_SINK.get(word) ?? 0;
  return mask;
}

/** Classification when the policy's patterns say nothing. */
export function fallbackSinks(target: string): SinkMask {
  const mask = heuristicSinks(target);
  return mask === 0 ? UNCLASSIFIED_SINKS : mask;
}
