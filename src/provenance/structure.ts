// Structure in a server's answer: fields the policy says the server computes (a commit's
// hash, an object id), as opposed to text someone wrote (a commit message, a mail body).
// Their values are left out of what the value index learns from the page, so an argument
// that reuses them is not taken as steered by the page; the rest of the page is indexed as
// before, and a value that also appears in a written field is found there.
// Input distrusted: the answer (any JSON); the field names come from the policy.

/** Levels walked at most; deeper structure is indexed as it is (fails toward taint). */
const MAX_DEPTH = 32;
/** Embedded JSON texts parsed at most per answer (a text content that is a JSON document). */
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
 * `value` without the members named in `fields` whose values are identifiers (ID_SHAPED
 * strings, numbers, booleans) or lists of them, at any depth, including inside strings that hold a JSON object or array (the
 * text content many servers send beside structuredContent). Returns `value` itself when
 * nothing was left out.
 */
export function withoutStructure(value: unknown, fields: ReadonlySet<string>): unknown {
  let embedded = 0;
  const walk = (item: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) return item;
    if (typeof item === 'string') {
      const head = item.trimStart()[0];
      if ((head !== '{' && head !== '[') || embedded >= MAX_EMBEDDED) return item;
      embedded++;
      let parsed: unknown;
      try {
        parsed = JSON.parse(item);
      } catch {
        return item;
      }
      const stripped = walk(parsed, depth + 1);
      return stripped === parsed ? item : JSON.stringify(stripped);
    }
    if (typeof item !== 'object' || item === null) return item;
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
  return walk(value, 0);
}
