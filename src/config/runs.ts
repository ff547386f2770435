// The proxy's flight logs in the state directory (`<state>/workspaces/<name>-<hash>/runs`):
// which runs a workspace has, cheaply (each file's first and last line, never the whole
// chain: `agentk runs show` and the review commands verify), which are still being
// written, and which one a name on the command line means (`latest`, a run id or a prefix
// of one, a file name, a path). A proxy marks its trace live with `<trace>.live` (its pid)
// while it runs; retention (config/retention.ts) never touches a live run.
// Input distrusted: the files in the directory (any name, any bytes, links anywhere).

import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { AgentkError } from '../errors.js';

/** `mcp-<server-id>-<run-id>.jsonl`, as the proxy names its traces. */
const PROXY_TRACE = /^mcp-(.+)-(\d{8}T\d{6}Z-[0-9a-f]{8})\.jsonl$/;
/** `mcp-<server-id>-latest.jsonl`, the link to a server's newest trace. */
const LATEST_LINK = /^mcp-(.+)-latest\.jsonl$/;
/** Bytes read from each end of a trace to list it. A seal line is well under 2 KiB. */
const EDGE_BYTES = 64 * 1024;
/** An unsealed trace written to this recently counts as live even without a marker. */
export const LIVE_WINDOW_MS = 10 * 60_000;
export const LIVE_SUFFIX = '.live';

/** One trace file in a runs directory. */
export interface RunFile {
  readonly path: string;
  readonly name: string;
  /** The run id in its name (`<stamp>-<hex>`), or the name without `.jsonl`. */
  readonly runId: string;
  readonly serverId: string | null;
  readonly bytes: number;
  readonly modifiedMs: number;
}

export type RunStatus = 'sealed' | 'unsealed' | 'live';

/** A run as `agentk runs list` shows it: read from its first and last line only. */
export interface RunSummary extends RunFile {
  /** The first event's time, else null (an empty or unreadable file). */
  readonly started: string | null;
  /** `sealed`: its last line is a seal (not verified here); `live`: a proxy is writing it. */
  readonly status: RunStatus;
  /** The seal's count, or the last intact line's step; null if unknown. */
  readonly events: number | null;
  /** The `latest` links that point at it. */
  readonly latest: readonly string[];
}

/** A workspace with state, as its `workspace.json` names it. */
export interface WorkspaceRuns {
  /** The workspace's path, or null when the marker is missing or unreadable. */
  readonly workspace: string | null;
  readonly runs: string;
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The run files of `dir`, newest (last written) first; [] for a missing directory. */
export function runFiles(dir: string): RunFile[] {
  const files: RunFile[] = [];
  for (const name of names(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    const path = join(dir, name);
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    // Links (the latest pointers, or anything planted) are not runs.
    if (!stat.isFile()) continue;
    const proxy = PROXY_TRACE.exec(name);
    files.push({
      path,
      name,
      runId: proxy ? (proxy[2] as string) : name.slice(0, -'.jsonl'.length),
      serverId: proxy ? (proxy[1] as string) : null,
      bytes: stat.size,
      modifiedMs: stat.mtimeMs,
    });
  }
  return files.sort((a, b) => b.modifiedMs - a.modifiedMs || (a.name < b.name ? 1 : -1));
}

/** The links of `dir` (any `.jsonl` symbolic link), with the name each points at in `dir`. */
export function runLinks(dir: string): { name: string; target: string | null }[] {
  const links: { name: string; target: string | null }[] = [];
  for (const name of names(dir)) {
    const path = join(dir, name);
    try {
      if (!name.endsWith('.jsonl') || !lstatSync(path).isSymbolicLink()) continue;
      const target = resolve(dir, readlinkSync(path));
      // Only a link to a file in this directory names a run; one elsewhere points at none.
      links.push({
        name,
        target: resolve(target, '..') === resolve(dir) ? basename(target) : null,
      });
    } catch {
      // vanished meanwhile
    }
  }
  return links;
}

/** Run file name -> the `latest` links pointing at it. */
export function latestTargets(dir: string): Map<string, string[]> {
  const targets = new Map<string, string[]>();
  for (const link of runLinks(dir)) {
    if (link.target === null || !LATEST_LINK.test(link.name)) continue;
    targets.set(link.target, [...(targets.get(link.target) ?? []), link.name]);
  }
  return targets;
}

/** Up to EDGE_BYTES from the start (`head`) or the end of a file. */
function edge(path: string, bytes: number, head: boolean): Buffer {
  const fd = openSync(path, 'r');
  try {
    const length = Math.min(bytes, EDGE_BYTES);
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, head ? 0 : bytes - length);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function parsed(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined || text === '') return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** The first event's time, and the last complete line as an object (null if none). */
function edges(file: RunFile): {
  started: string | null;
  last: Record<string, unknown> | null;
} {
  if (file.bytes === 0) return { started: null, last: null };
  try {
    const head = edge(file.path, file.bytes, true).toString('utf8');
    const newline = head.indexOf('\n');
    const first = parsed(newline === -1 ? undefined : head.slice(0, newline));
    const window = edge(file.path, file.bytes, false);
    const tail = window.toString('utf8');
    // A tail without a newline was cut mid-write; a line longer than the window is no seal.
    const lines = tail.endsWith('\n') ? tail.slice(0, -1).split('\n') : [];
    const whole = lines.length > 1 || window.length === file.bytes;
    // The last event: checkpoint lines (format 2) follow events, they are none.
    const complete = whole ? lines : [];
    const at = complete.findLastIndex((line) => !line.startsWith('{"checkpoint":'));
    const last = at >= (whole && window.length < file.bytes ? 1 : 0) ? parsed(complete[at]) : null;
    return { started: typeof first?.ts === 'string' ? first.ts : null, last };
  } catch {
    return { started: null, last: null };
  }
}

/** Whether the process that wrote a `.live` marker still runs. */
function markerAlive(trace: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(`${trace}${LIVE_SUFFIX}`, 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as someone else. A reused pid keeps a run: the safe side.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a proxy may still be writing an unsealed run (ask only of one): its `.live` marker names a running
 * process, or (a proxy from before markers, another machine) it was written within the
 * last LIVE_WINDOW_MS.
 */
export function isLive(file: RunFile, now: number): boolean {
  return markerAlive(file.path) || now - file.modifiedMs < LIVE_WINDOW_MS;
}

/** Whether the file's last line is a seal (not verified). */
export function endsSealed(file: RunFile): boolean {
  return edges(file).last?.type === 'seal';
}

export function summarizeRun(
  file: RunFile,
  latest: ReadonlyMap<string, readonly string[]>,
  now: number,
): RunSummary {
  const { started, last } = edges(file);
  const seal = last?.type === 'seal' ? (last.seal as Record<string, unknown> | undefined) : null;
  const count = seal ? seal.event_count : last?.step;
  return {
    ...file,
    started,
    status: seal ? 'sealed' : isLive(file, now) ? 'live' : 'unsealed',
    events: typeof count === 'number' && Number.isSafeInteger(count) ? count : null,
    latest: latest.get(file.name) ?? [],
  };
}

/** Every run of `dir`, newest first, with what its edges say. */
export function listRuns(dir: string, now: number = Date.now()): RunSummary[] {
  const latest = latestTargets(dir);
  return runFiles(dir).map((file) => summarizeRun(file, latest, now));
}

/** Every workspace under the state home that has a runs directory. */
export function stateWorkspaces(home: string): WorkspaceRuns[] {
  const root = join(home, 'workspaces');
  return names(root)
    .sort()
    .flatMap((key) => {
      const runs = join(root, key, 'runs');
      if (!existsSync(runs)) return [];
      let workspace: string | null = null;
      try {
        const marker = parsed(readFileSync(join(root, key, 'workspace.json'), 'utf8'));
        if (typeof marker?.workspace === 'string') workspace = marker.workspace;
      } catch {
        // no marker: the directory is still listed, by its key
      }
      return [{ workspace, runs }];
    });
}

/** Mark a trace as being written by this process (best effort; retention reads it). */
export function markLive(trace: string): void {
  try {
    writeFileSync(`${trace}${LIVE_SUFFIX}`, `${process.pid}\n`, { mode: 0o600 });
  } catch {
    // without a marker the run still counts as live while it is written to
  }
}

export function clearLive(trace: string): void {
  rmSync(`${trace}${LIVE_SUFFIX}`, { force: true });
}

/** A name on the command line that is a path, not a run id. */
export const looksLikePath = (ref: string) => ref.includes('/') || ref.includes('\\');

/**
 * The trace a name on the command line means: a path to an existing file; `latest` (the
 * newest run of the workspace, else the demo's `.agentk/runs/latest.jsonl` there); a file
 * name in the runs directory; a run id or a unique prefix of one.
 */
export function resolveRun(
  ref: string,
  where: { readonly runs: string; readonly workspace: string; readonly cwd: string },
): string {
  const direct = resolve(where.cwd, ref);
  if ((looksLikePath(ref) || ref.endsWith('.jsonl')) && existsSync(direct)) return direct;
  const shown = JSON.stringify(ref.slice(0, 80));
  if (looksLikePath(ref)) throw new AgentkError('FILE_NOT_FOUND', `no such trace: ${ref}`);
  const files = runFiles(where.runs);
  if (ref === 'latest') {
    const newest = files[0];
    if (newest) return newest.path;
    const demo = join(where.workspace, '.agentk', 'runs', 'latest.jsonl');
    if (existsSync(demo)) return demo;
    throw new AgentkError(
      'FILE_NOT_FOUND',
      `no runs for ${where.workspace} (in ${where.runs}); give a trace file instead`,
    );
  }
  if (ref.endsWith('.jsonl') && existsSync(join(where.runs, ref))) {
    try {
      if (statSync(join(where.runs, ref)).isFile()) return join(where.runs, ref);
    } catch {
      // gone meanwhile: fall through to "no run"
    }
  }
  const exact = files.filter((file) => file.runId === ref || file.name === ref);
  const found = exact.length > 0 ? exact : files.filter((file) => file.runId.startsWith(ref));
  if (found.length === 1) return (found[0] as RunFile).path;
  if (found.length > 1 && ref !== '') {
    throw new AgentkError(
      'USAGE',
      `run ${shown} matches ${found.length} runs in ${where.runs} (${found
        .slice(0, 3)
        .map((file) => file.name)
        .join(', ')}${found.length > 3 ? ', …' : ''}); give more of its id`,
    );
  }
  throw new AgentkError(
    'FILE_NOT_FOUND',
    `no run ${shown} in ${where.runs} (agentk runs list shows the runs)`,
  );
}
