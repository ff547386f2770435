// Structure in a server's answer: fields the policy says the server computes (a commit's
// hash, an object id), as opposed to text someone wrote (a commit message, a mail body).
// Their values are left out of what the value index learns from the page, so an argument
// that reuses them is not taken as steered by the page; the rest of the page is indexed as
// before, and a value that also appears in a written field is found there.
// Input distrusted: the answer (any JSON); the field names come from the policy.

/** Levels walked at most; deeper structure is indexed as it is (fails toward taint). */
const MAX_DEPTH = 32;
/** Text contents parsed at most per answer (each a JSON document). */
const MAX_EMBEDDED = 64;

/**
 * An identifier a server computes: a hash, a number, a node id. A URL, a path or prose in a
 * field the policy named is still indexed (a lying or compromised server cannot launder a
 * destination through a "hash" field).
 */
const ID_SHAPED = /^[A-Za-z0-9_=+-]{1,128}$/;
const scalar = (value: unknown) =>
  (typeof value === 'string' && ID_SHAPED.test(value)) ||
  typeof value === 'number' ||
  typeof value === 'boolean';

/**
 * `value` (a server's answer) without the members named in `fields` whose values are
 * identifiers (ID_SHAPED strings, numbers, booleans) or lists of them, at any depth. A
 * text content (`content[].text`) that is itself a JSON document, as many servers send
 * beside structuredContent, is parsed and treated the same; no other string is (JSON that
 * someone wrote inside a commit message or an issue body stays text). Returns `value`
 * itself when nothing was left out.
 */
export function withoutStructure(value: unknown, fields: ReadonlySet<string>): unknown {
  const walk = (item: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH || typeof item !== 'object' || item === null) return item;
    if (Array.isArray(item)) {
      let changed = false;
      const out = item.map((member) => {
        const next = walk(member, depth + 1);
        if (next !== member) changed = true;
        return next;
      });
      return changed ? out : item;
    }
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(item)) {
      if (fields.has(key) && (scalar(member) || (Array.isArray(member) && member.every(scalar)))) {
        changed = true;
        continue;
      }
      const next = walk(member, depth + 1);
      if (next !== member) changed = true;
      out[key] = next;
    }
    return changed ? out : item;
  };
  /** A text content that is a JSON document, with its structure left out. */
  const text = (raw: string): string => {
    const head = raw.trimStart()[0];
    if (head !== '{' && head !== '[') return raw;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return raw;
    }
    const stripped = walk(parsed, 1);
    return stripped === parsed ? raw : JSON.stringify(stripped);
  };
  const answer = walk(value, 0);
  const content = (answer as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return answer;
  let changed = false;
  const parts = content.slice(0, MAX_EMBEDDED).map((part: unknown) => {
    const raw = (part as { type?: unknown; text?: unknown } | null)?.text;
    if (typeof raw !== 'string' || (part as { type?: unknown }).type !== 'text') return part;
    const next = text(raw);
    if (next === raw) return part;
    changed = true;
    return { ...(part as object), text: next };
  });
  return changed
    ? { ...(answer as object), content: [...parts, ...content.slice(MAX_EMBEDDED)] }
    : answer;
}
