// Unified-diff evidence for `file.patch`: the diff's hash, its stats, and every path it
// touches (file headers, git's diff/rename/copy headers), so that a patch can be held to
// its target. The diff itself never enters the log.
// Input distrusted: the diff text (any shape; counting never fails) and its paths.

import { posix } from 'node:path';

/** A diff touching more paths than this is refused rather than partly checked. */
export const MAX_PATCH_PATHS = 10_000;

export interface PatchStats {
  readonly files: number;
  readonly hunks: number;
  readonly additions: number;
  readonly deletions: number;
  readonly created: number;
  readonly deleted: number;
  /** Every path the diff touches (a/ and b/ prefixes removed), in order of appearance. */
  readonly paths: readonly string[];
  readonly tooManyPaths: boolean;
}

function unquote(path: string): string {
  const trimmed = path.trim();
  if (trimmed.startsWith('"') && trimmed.endsWith('"')) {
    try {
      return JSON.parse(trimmed) as string;
    } catch {
      return trimmed.slice(1, -1);
    }
  }
  return trimmed;
}

function headerPath(header: string): string | null {
  const path = unquote(header.split('\t')[0] ?? '');
  if (path === '/dev/null') return null;
  return path.replace(/^[ab]\//, '');
}

export function patchStats(diff: string): PatchStats {
  let files = 0;
  let hunks = 0;
  let additions = 0;
  let deletions = 0;
  let created = 0;
  let deleted = 0;
  let oldIsNull = false;
  let tooManyPaths = false;
  const paths = new Set<string>();
  const add = (path: string | null) => {
    if (path === null || path === '') return;
    if (paths.size >= MAX_PATCH_PATHS) tooManyPaths = true;
    else paths.add(path);
  };
  for (const line of diff.split('\n')) {
    if (line.startsWith('--- ')) {
      const path = headerPath(line.slice(4));
      oldIsNull = path === null;
      add(path);
    } else if (line.startsWith('+++ ')) {
      files += 1;
      const path = headerPath(line.slice(4));
      if (path === null) deleted += 1;
      else add(path);
      if (oldIsNull) created += 1;
    } else if (line.startsWith('diff --git ')) {
      const match = /^diff --git ("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)\s*$/.exec(line);
      if (match) {
        add(headerPath(match[1] as string));
        add(headerPath(match[2] as string));
      } else add(line.slice(11)); // unparseable: checked as one path, so it cannot slip through
    } else if (/^(rename|copy) (from|to) /.test(line)) {
      add(unquote(line.replace(/^(rename|copy) (from|to) /, '')));
    } else if (line.startsWith('@@')) hunks += 1;
    else if (line.startsWith('+')) additions += 1;
    else if (line.startsWith('-')) deletions += 1;
  }
  return { files, hunks, additions, deletions, created, deleted, paths: [...paths], tooManyPaths };
}

/** Whether every path the diff touches is the target file or lies under the target dir. */
export function patchWithinTarget(stats: PatchStats, target: string): boolean {
  const base = posix.normalize(target).replace(/\/+$/, '');
  return stats.paths.every((path) => {
    const p = posix.normalize(path);
    if (base === '.') return !p.startsWith('/') && p !== '..' && !p.startsWith('../');
    return p === base || p.startsWith(`${base}/`);
  });
}
