// Editing a JSON (or JSONC: comments, trailing commas) document as text, so that a change
// to one member leaves every other byte where the user put it: comments, compact arrays,
// key order, spacing. Positions come from a scan of the text with its comments blanked
// out, which has the same length and line breaks as the original. The caller checks the
// edited text against the document it meant (and falls back to a full rewrite, or
// refuses): these functions return null rather than guess.
// Input distrusted: the text (any JSON the caller's JSON.parse accepted).

/** Index just past the string that opens at `i` (its closing quote), escapes skipped. */
function stringEnd(text: string, i: number): number {
  for (let k = i + 1; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === '"') return k + 1;
  }
  return text.length;
}

/** The comments of a JSONC text, as [start, end) ranges; null when one is unterminated. */
function commentRanges(text: string): [number, number][] | null {
  const ranges: [number, number][] = [];
  for (let i = 0; i < text.length; ) {
    if (text[i] === '"') i = stringEnd(text, i);
    else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      ranges.push([i, end === -1 ? text.length : end]);
      i = end === -1 ? text.length : end;
    } else if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      if (close === -1) return null;
      ranges.push([i, close + 2]);
      i = close + 2;
    } else i++;
  }
  return ranges;
}

/**
 * The text with its comments and trailing commas turned into spaces (line breaks kept), so
 * that JSON.parse reads it and every position in it is the same in the original.
 */
export function blankJsonc(text: string): string {
  // Ranges to blank; most files have none, and are returned as they are.
  const ranges = commentRanges(text);
  if (ranges === null) return text; // unterminated: JSON.parse says where
  const blanked = blankRanges(text, ranges);
  const commas: [number, number][] = [];
  for (let i = 0; i < blanked.length; ) {
    if (blanked[i] === '"') {
      i = stringEnd(blanked, i);
      continue;
    }
    if (blanked[i] === ',' && /[}\]]/.test(blanked[skipSpace(blanked, i + 1)] ?? '')) {
      commas.push([i, i + 1]);
    }
    i++;
  }
  return blankRanges(blanked, commas);
}

/** `text` with each range's characters but line breaks made spaces. */
function blankRanges(text: string, ranges: readonly [number, number][]): string {
  if (ranges.length === 0) return text;
  let out = '';
  let at = 0;
  for (const [from, to] of ranges) {
    out += text.slice(at, from) + text.slice(from, to).replace(/[^\r\n]/g, ' ');
    at = to;
  }
  return out + text.slice(at);
}

function skipSpace(json: string, i: number): number {
  let k = i;
  while (k < json.length && ' \t\r\n'.includes(json[k] as string)) k++;
  return k;
}

/** Index just past the value that starts at `i`. */
function valueEnd(json: string, i: number): number {
  const first = json[i];
  if (first === '"') return stringEnd(json, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let k = i; k < json.length; k++) {
      const c = json[k];
      if (c === '"') k = stringEnd(json, k) - 1;
      else if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && --depth === 0) return k + 1;
    }
    return json.length;
  }
  let k = i;
  while (k < json.length && !/[\s,\]}]/.test(json[k] as string)) k++;
  return k;
}

export interface Member {
  readonly key: string;
  readonly keyStart: number;
  readonly valueStart: number;
  readonly valueEnd: number;
}

/** The members of the object whose `{` is at `open`, in order. */
function members(json: string, open: number): Member[] {
  const out: Member[] = [];
  let i = skipSpace(json, open + 1);
  while (json[i] === '"') {
    const keyEnd = stringEnd(json, i);
    const valueStart = skipSpace(json, skipSpace(json, keyEnd) + 1);
    const end = valueEnd(json, valueStart);
    out.push({ key: JSON.parse(json.slice(i, keyEnd)), keyStart: i, valueStart, valueEnd: end });
    i = skipSpace(json, end);
    if (json[i] === ',') i = skipSpace(json, i + 1);
  }
  return out;
}

/** The object at `path` from the top (the last member of a name wins, as in JSON.parse). */
export function objectAt(json: string, path: readonly string[]): Member[] | null {
  let open = skipSpace(json, 0);
  for (const key of path) {
    if (json[open] !== '{') return null;
    const found = members(json, open).findLast((member) => member.key === key);
    if (found === undefined) return null;
    open = found.valueStart;
  }
  return json[open] === '{' ? members(json, open) : null;
}

/** The whitespace before `pos` on its line, or null when something else precedes it there. */
function lineIndent(text: string, pos: number): string | null {
  const before = text.slice(text.lastIndexOf('\n', pos - 1) + 1, pos);
  return /^[ \t]*$/.test(before) ? before : null;
}

/**
 * A string array laid out like `original` (one line, or one item a line with its item and
 * bracket indentation); with no original, like its member's line (`indent`: null for an
 * object written on one line).
 */
function renderArray(
  items: readonly string[],
  original: string | null,
  indent: string | null,
  unit: string,
  eol: string,
): string {
  if (items.length === 0) return '[]';
  const oneLine = original !== null ? !original.includes('\n') : indent === null;
  if (oneLine || indent === null) {
    const separator = original !== null && /",(?! )/.test(original) ? ',' : ', ';
    return `[${items.map((item) => JSON.stringify(item)).join(separator)}]`;
  }
  const itemIndent = (original && /\n([ \t]*)\S/.exec(original)?.[1]) ?? indent + unit;
  const closeIndent = (original && /\n([ \t]*)\]$/.exec(original)?.[1]) ?? indent;
  const lines = items.map((item) => `${itemIndent}${JSON.stringify(item)}`);
  return `[${eol}${lines.join(`,${eol}`)}${eol}${closeIndent}]`;
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * `text` with the object at `path` given `command` and `args` in place (`args` inserted
 * after `command` if missing, removed if empty), or null when that cannot be done without
 * touching something else (a comment inside what would be replaced, an odd shape).
 */
export function setCommandLine(
  text: string,
  path: readonly string[],
  command: string,
  args: readonly string[],
  unit: string,
): string | null {
  const json = blankJsonc(text);
  const entry = objectAt(json, path);
  const commandAt = entry?.findLast((member) => member.key === 'command');
  if (!entry || !commandAt) return null;
  const argsIndex = entry.findLastIndex((member) => member.key === 'args');
  const argsAt = entry[argsIndex];
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const edits: Edit[] = [
    { start: commandAt.valueStart, end: commandAt.valueEnd, text: JSON.stringify(command) },
  ];
  if (argsAt === undefined) {
    if (args.length > 0) {
      const indent = lineIndent(text, commandAt.keyStart);
      const array = renderArray(args, null, indent, unit, eol);
      const member = indent === null ? `, "args": ${array}` : `,${eol}${indent}"args": ${array}`;
      edits.push({ start: commandAt.valueEnd, end: commandAt.valueEnd, text: member });
    }
  } else if (args.length > 0) {
    const original = text.slice(argsAt.valueStart, argsAt.valueEnd);
    const indent = lineIndent(text, argsAt.keyStart);
    const array = renderArray(args, original, indent, unit, eol);
    edits.push({ start: argsAt.valueStart, end: argsAt.valueEnd, text: array });
  } else {
    // Remove the member with the separator before it (or after it, when it comes first).
    const previous = entry[argsIndex - 1];
    const next = entry[argsIndex + 1];
    if (previous !== undefined) {
      edits.push({ start: previous.valueEnd, end: argsAt.valueEnd, text: '' });
    } else if (next !== undefined) {
      edits.push({ start: argsAt.keyStart, end: next.keyStart, text: '' });
    } else return null;
  }
  // A comment inside a replaced span would be lost: not in place, then.
  if (edits.some((edit) => text.slice(edit.start, edit.end) !== json.slice(edit.start, edit.end)))
    return null;
  if (new Set(edits.map((edit) => edit.start)).size !== edits.length) return null;
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  }
  return out;
}

/** A value that is not a string: a number, true, false or null (or what a JSON5 file has). */
const VALUE_TOKEN = /[\w.+-]+/y;

/** A comment made `[redacted]`, its line breaks kept (so the lines still match). */
function redactedComment(comment: string): string {
  if (comment.startsWith('//')) return `// [redacted]${comment.endsWith('\r') ? '\r' : ''}`;
  const breaks = comment.match(/\r?\n/g) ?? [];
  return `/* [redacted]${breaks.join('')} */`;
}

/** The line of each position: how many line breaks come before it (a binary search). */
function lineFinder(text: string): (pos: number) => number {
  const breaks = [...text.matchAll(/\n/g)].map((match) => match.index);
  return (pos) => {
    let low = 0;
    let high = breaks.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((breaks[mid] as number) < pos) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

/**
 * The text with the named members of each entry (`env`, `headers`) hidden: every string
 * that is not a key, every number, true, false and null, and every comment, on any line their values reach, replaced by
 * `[redacted]` (a value on the line after its key, or inside a nested object, too): what a
 * dry run may print. Keys stay: they are names, not values.
 */
export function redactMembers(
  text: string,
  path: readonly string[],
  keys: readonly string[],
): string {
  const json = blankJsonc(text);
  const lineOf = lineFinder(json);
  const hidden = new Set<number>();
  for (const entry of objectAt(json, path) ?? []) {
    if (json[entry.valueStart] !== '{') continue;
    for (const member of members(json, entry.valueStart)) {
      if (!keys.includes(member.key)) continue;
      for (let line = lineOf(member.valueStart); line <= lineOf(member.valueEnd - 1); line++) {
        hidden.add(line);
      }
    }
  }
  if (hidden.size === 0) return text;
  const edits: Edit[] = [];
  for (let i = 0; i < json.length; i++) {
    if (json[i] !== '"') {
      // A number, true, false or null is a value too (an env PIN written as a number).
      VALUE_TOKEN.lastIndex = i;
      const token = VALUE_TOKEN.exec(json);
      if (token !== null && hidden.has(lineOf(i))) {
        edits.push({ start: i, end: i + token[0].length, text: '"[redacted]"' });
      }
      if (token !== null) i += token[0].length - 1;
      continue;
    }
    const end = stringEnd(json, i);
    const isKey = json[skipSpace(json, end)] === ':';
    if (!isKey && hidden.has(lineOf(i))) edits.push({ start: i, end, text: '"[redacted]"' });
    i = end - 1;
  }
  for (const [start, end] of commentRanges(text) ?? []) {
    const [first, last] = [lineOf(start), lineOf(end - 1)];
    if ([...hidden].some((line) => line >= first && line <= last)) {
      edits.push({ start, end, text: redactedComment(text.slice(start, end)) });
    }
  }
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  }
  return out;
}
