// A unified diff of two small texts, line by line (`--dry-run` of agentk wrap/unwrap): the
// common head and tail are cut first, the middle is aligned by longest common subsequence,
// and hunks carry three lines of context. Inputs are a user's configuration, at most a
// megabyte; a middle too large to align shows as removed then added.

const CONTEXT = 3;
/** Cells of the alignment table above which the middle is shown whole. */
const MAX_CELLS = 4_000_000;

type Op = { readonly mark: ' ' | '-' | '+'; readonly line: string };

function align(a: readonly string[], b: readonly string[]): Op[] {
  if (a.length * b.length > MAX_CELLS) {
    return [
      ...a.map((line) => ({ mark: '-' as const, line })),
      ...b.map((line) => ({ mark: '+' as const, line })),
    ];
  }
  // lengths[i][j]: the longest common subsequence of a[i..] and b[j..].
  const width = b.length + 1;
  const lengths = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i * width + j] =
        a[i] === b[j]
          ? (lengths[(i + 1) * width + j + 1] as number) + 1
          : Math.max(lengths[(i + 1) * width + j] as number, lengths[i * width + j + 1] as number);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ mark: ' ', line: a[i++] as string });
      j++;
    } else if (
      j < b.length &&
      (i === a.length ||
        (lengths[i * width + j + 1] as number) >= (lengths[(i + 1) * width + j] as number))
    ) {
      ops.push({ mark: '+', line: b[j++] as string });
    } else ops.push({ mark: '-', line: a[i++] as string });
  }
  // Removals before additions within a change, as diff(1) shows them.
  for (let k = 1; k < ops.length; k++) {
    for (let m = k; m > 0 && ops[m]?.mark === '-' && ops[m - 1]?.mark === '+'; m--) {
      [ops[m - 1], ops[m]] = [ops[m] as Op, ops[m - 1] as Op];
    }
  }
  return ops;
}

function operations(a: readonly string[], b: readonly string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail++;
  }
  const same = (line: string) => ({ mark: ' ' as const, line });
  return [
    ...a.slice(0, head).map(same),
    ...align(a.slice(head, a.length - tail), b.slice(head, b.length - tail)),
    ...a.slice(a.length - tail).map(same),
  ];
}

/** Each hunk: its first op and one past its last, changes with their context. */
function hunkRanges(ops: readonly Op[]): [number, number][] {
  const ranges: [number, number][] = [];
  ops.forEach((op, k) => {
    if (op.mark === ' ') return;
    const start = Math.max(0, k - CONTEXT);
    const end = Math.min(ops.length, k + CONTEXT + 1);
    const last = ranges[ranges.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else ranges.push([start, end]);
  });
  return ranges;
}

/** `--- before` / `+++ after` and `@@` hunks; the empty string when nothing differs. */
export function unifiedDiff(before: string, after: string, labels: [string, string]): string {
  if (before === after) return '';
  const split = (text: string) => text.replace(/\r?\n$/, '').split(/\r?\n/);
  const ops = operations(split(before), split(after));
  const out = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  for (const [start, end] of hunkRanges(ops)) {
    const count = (mark: '-' | '+', from: number, to: number) =>
      ops.slice(from, to).filter((op) => op.mark !== (mark === '-' ? '+' : '-')).length;
    const oldStart = count('-', 0, start) + 1;
    const newStart = count('+', 0, start) + 1;
    const oldCount = count('-', start, end);
    const newCount = count('+', start, end);
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const op of ops.slice(start, end)) out.push(`${op.mark}${op.line}`);
  }
  return `${out.join('\n')}\n`;
}
