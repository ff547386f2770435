// Sink classification of a tool-like target: policy patterns first, then name heuristics,
// and a target nothing classifies is treated as the most sensitive plausible classes.
// Input distrusted: tool names chosen by servers (a tool may call itself "read_notes" and
// send mail; the policy's patterns override the name, and #5 adds MCP annotations).

import { type LabelMask, PRIVATE, SECRET } from '../labels/labels.js';
import { memoized } from '../memo.js';
import {
  SINK_DESTRUCTIVE,
  SINK_EGRESS,
  SINK_EXEC,
  SINK_READ,
  SINK_WRITE,
  type SinkMask,
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
      // Issues, gists and tickets are published to others (a public tracker, a helpdesk).
      'issue issues gist gists ticket tickets ' +
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
      'modify replace store upsert checkout merge rebase stash',
  ],
  [
    SINK_READ,
    'read get list search find view show query describe info stat head tree lookup retrieve ' +
      'open echo count status diff log print cat load check fetch browse navigate scrape crawl ' +
      'download blame reflog',
  ],
];

const WORD_TO_SINK = new Map<string, SinkMask>();
for (const [sink, words] of HEURISTICS) {
  for (const word of words.split(' ')) WORD_TO_SINK.set(word, (WORD_TO_SINK.get(word) ?? 0) | sink);
}

// A search or lookup through the user's own stores (`search_files`, `search_emails`,
// `find_contact_by_name`) asks the service that holds them: its query does not leave for the
// open world, so those words only read there. (`search_web`, `lookup`: egress, as above.)
const SEARCH_WORDS = new Set(['search', 'lookup', 'query']);
const OWN_STORE_WORDS = new Set(
  (
    'file files filename filenames dir dirs directory directories folder folders path paths ' +
    'mail mails email emails inbox message messages calendar calendars event events contact ' +
    'contacts note notes memory memories node nodes entity entities channel channels repo ' +
    'repos repository repositories commit commits branch branches code symbol symbols ' +
    'document documents drive'
  ).split(' '),
);

/**
 * Split a name into lowercase words: `sendEmail`, `send_email`, `send-email` -> send, email.
 * Memoized (tool and argument names repeat on every call; three regular expressions each
 * time were a visible share of a call's analysis); the list is shared, so never changed.
 */
export const nameWords: (name: string) => readonly string[] = memoized(function nameWords(
  name: string,
): readonly string[] {
  return name
    .replace(/([A-Z])(?=[A-Z][a-z])/g, '$1 ') // getURLContent: URL, Content (linear time)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
});

/** Sink classes from the words of a tool's own name (the part after the last `/`). */
export const heuristicSinks: (target: string) => SinkMask = memoized(function heuristicSinks(
  target: string,
): SinkMask {
  const words = nameWords(target.slice(target.lastIndexOf('/') + 1));
  const ownStore = words.some((word) => OWN_STORE_WORDS.has(word));
  let mask = 0;
  for (const word of words) {
    mask |= ownStore && SEARCH_WORDS.has(word) ? SINK_READ : (WORD_TO_SINK.get(word) ?? 0);
  }
  return mask;
});

/**
 * Sink classes a tool's description declares as side effects of a call that its name does
 * not show: "the emails are marked as read after this function is called" is a write.
 * Descriptions are the server's claims, so they only ever add classes.
 */
function descriptionSinks(description: unknown): SinkMask {
  if (typeof description !== 'string') return 0;
  const text = description.slice(0, 4096);
  return /\b(?:is|are|will be|gets?|be) (?:then )?(?:marked|flagged|moved|archived)\b|\bmarks? (?:\w+ ){0,3}as (?:read|unread|seen|done|spam|complete|completed|resolved)\b/i.test(
    text,
  )
    ? SINK_WRITE
    : 0;
}

/**
 * Sink classes a tool's descriptor gives it besides its name: its annotations, else (when
 * the name does not classify it either) its input schema; then what its description
 * declares. 0 when nothing in the descriptor classifies it (the tool then counts as
 * everything). Joined with the name heuristics by the policy.
 */
export function descriptorSinks(target: string, descriptor: unknown): SinkMask {
  const d = (typeof descriptor === 'object' && descriptor !== null ? descriptor : {}) as {
    annotations?: unknown;
    inputSchema?: unknown;
    description?: unknown;
  };
  const named = heuristicSinks(target);
  const base = annotationSinks(d.annotations) || (named === 0 ? schemaSinks(d.inputSchema) : 0);
  // Never the only class: a description alone must not narrow "everything" down to a write.
  return base === 0 && named === 0 ? 0 : base | descriptionSinks(d.description);
}

/**
 * Sink classes from a descriptor's MCP annotations (2025-03-26 and later): read-only or
 * not, destructive or not, open world or not. Annotations are the server's claims, so
 * they are joined with the name heuristics, never trusted to lower them. No annotations: 0.
 */
function annotationSinks(annotations: unknown): SinkMask {
  if (typeof annotations !== 'object' || annotations === null) return 0;
  const a = annotations as Record<string, unknown>;
  const known = ['readOnlyHint', 'destructiveHint', 'openWorldHint'].some(
    (key) => typeof a[key] === 'boolean',
  );
  if (!known) return 0;
  let mask = 0;
  if (a.readOnlyHint === true) mask |= SINK_READ;
  else if (a.readOnlyHint === false) {
    mask |= SINK_WRITE;
    // The spec's default for a tool that writes is destructive.
    if (a.destructiveHint !== false) mask |= SINK_DESTRUCTIVE;
  }
  // The spec's default is open world: say otherwise to be treated as closed.
  if (a.openWorldHint !== false) mask |= SINK_EGRESS;
  return mask;
}

/** Words of argument names that carry code or a command: a tool taking one may run it. */
const CODE_WORDS = new Set(
  (
    'command commands cmd code script scripts shell exec program source expression expr eval ' +
    'python js javascript bash sh argv cell snippet sql query statement lambda'
  ).split(' '),
);

/**
 * Sink classes of a tool that neither its annotations nor its name classify, from its input
 * schema: every class but exec (it may write, send or destroy: nothing says otherwise),
 * and exec too when an argument is named like code or a command. 0 when there is no schema.
 */
function schemaSinks(inputSchema: unknown): SinkMask {
  if (typeof inputSchema !== 'object' || inputSchema === null) return 0;
  const properties = (inputSchema as { properties?: unknown }).properties;
  const names =
    typeof properties === 'object' && properties !== null ? Object.keys(properties) : [];
  const code = names.some((name) => nameWords(name).some((word) => CODE_WORDS.has(word)));
  return SINK_WRITE | SINK_EGRESS | SINK_DESTRUCTIVE | (code ? SINK_EXEC : 0);
}

const PRIVATE_SOURCE_WORDS = new Set(
  (
    'mail email emails inbox message messages sms chat chats dm dms contact contacts ' +
    'calendar calendars bank banking account accounts payment payments history env environment'
  ).split(' '),
);
// Tools whose very purpose is to return secrets. (An environment dump is private; the
// credentials inside it are found and replaced by handles like anywhere else.)
const SECRET_SOURCE_WORDS = new Set(
  'secret secrets credential credentials password passwords keychain token tokens cookie cookies vault'.split(
    ' ',
  ),
);

/**
 * Labels for what a tool returns, from the words of its name: the user's own data
 * (mail, messages, contacts, calendar, bank, environment) is private; credential readers
 * are private and secret.
 */
export const sourceHeuristics: (target: string) => LabelMask = memoized(function sourceHeuristics(
  target: string,
): LabelMask {
  const name = target.slice(target.lastIndexOf('/') + 1);
  let mask = 0;
  for (const word of nameWords(name)) {
    if (SECRET_SOURCE_WORDS.has(word)) mask |= PRIVATE | SECRET;
    else if (PRIVATE_SOURCE_WORDS.has(word)) mask |= PRIVATE;
  }
  return mask;
});
