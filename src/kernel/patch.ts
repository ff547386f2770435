// Unified-diff evidence for `file.patch`: the diff's hash, its stats, and the paths it
// touches. The diff itself never enters the log.
// Input distrusted: the diff text (any shape; counting never fails) and its paths.

import { posix } from 'node:path';

export interface PatchStats {
  readonly files: number;
  readonly hunks: number;
  readonly additions: number;
  readonly deletions: number;
  readonly created: number;
  readonly deleted: number;
  /** Paths the diff touches (a/ and b/ prefixes removed), at most 64. */
  readonly paths: readonly string[];
}

function stripPrefix(header: string): string | null {
  const path = header.slice(4).split('\t')[0]?.trim() ?? '';
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
  const paths = new Set<string>();
  for (const line of diff.split('\n')) {
    if (line.startsWith('--- ')) {
      oldIsNull = stripPrefix(line) === null;
      const path = stripPrefix(line);
      if (path !== null && paths.size < 64) paths.add(path);
    } else if (line.startsWith('+++ ')) {
      files += 1;
      const path = stripPrefix(line);
      if (path === null) deleted += 1;
      else if (paths.size < 64) paths.add(path);
      if (oldIsNull) created += 1;
    } else if (line.startsWith('@@')) hunks += 1;
    else if (line.startsWith('+')) additions += 1;
    else if (line.startsWith('-')) deletions += 1;
  }
  return { files, hunks, additions, deletions, created, deleted, paths: [...paths] };
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
