// Anchored seals: a copy of each seal kept where the agent's host cannot rewrite it (an
// append-only file on another disk or host, a git repository that is pushed elsewhere).
// A host that rewrites a log and re-signs it with a stolen key makes a new seal; the
// anchor still holds the old one, and `agentk verify --anchor` names the difference.
// Input distrusted: anchor files and repositories (read back by verify).

import { spawnSync } from 'node:child_process';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { shownUrl } from '../config/variables.js';
import { canonicalize } from '../crypto/canonical.js';
import { sha256Hex } from '../crypto/index.js';
import type { SealEvent } from '../recorder/event.js';

/** Where seals are anchored: append-only files, and git work trees (a commit per seal). */
export interface AnchorTargets {
  readonly files: readonly string[];
  readonly git: readonly string[];
}

/** An anchor service: seals are POSTed to `url`, and read back with `GET url?run_id=`. */
export interface HttpAnchor {
  readonly url: string;
  /** Sent with every request (credentials: never shown, never logged). */
  readonly headers: Readonly<Record<string, string>>;
}

/** What anchoring one seal in one place came to. */
export interface AnchorOutcome {
  readonly target: string;
  readonly ok: boolean;
  /** What was done, or why it failed (never secret: paths and git's own first line). */
  readonly detail: string;
}

/** What an anchor says of a log's seal. */
export type AnchorCheck =
  | { readonly target: string; readonly status: 'match'; readonly detail: string }
  | {
      readonly target: string;
      readonly status: 'mismatch' | 'missing' | 'unreadable';
      readonly detail: string;
    };

/** The members of a seal an anchor keeps: enough to tell any other seal of the run apart. */
export interface AnchorRecord {
  readonly event_count: number;
  readonly head_hash: string;
  readonly public_key: string;
  readonly run_id: string;
  /** The seal event's own hash: the last link of the chain. */
  readonly seal_hash: string;
  readonly signature: string;
  readonly ts: string;
}

const ANCHOR_TYPE = 'seal-anchor';
/** An anchor file larger than this is not read whole (verify says so). */
const MAX_ANCHOR_FILE = 256 * 1024 * 1024;
const GIT_TIMEOUT_MS = 30_000;
/** How long an anchor service may take to answer. */
const HTTP_TIMEOUT_MS = 5_000;
/** The most of an anchor service's answer that is read. */
const MAX_HTTP_ANSWER = 1024 * 1024;

export function anchorRecordOf(seal: SealEvent): AnchorRecord {
  return {
    event_count: seal.seal.event_count,
    head_hash: seal.seal.head_hash,
    public_key: seal.seal.public_key,
    run_id: seal.run_id,
    seal_hash: seal.event_hash,
    signature: seal.seal.signature,
    ts: seal.ts,
  };
}

/** The one line (JCS, newline-terminated) an anchor holds for a seal. */
export function anchorLine(seal: SealEvent): string {
  return `${canonicalize({ anchor: anchorRecordOf(seal), type: ANCHOR_TYPE, v: 1 })}\n`;
}

/**
 * Anchor a seal in every target. Never throws: a target that fails says why, and the
 * others are still written (the log itself is sealed either way).
 */
export function anchorSeal(seal: SealEvent, targets: AnchorTargets): AnchorOutcome[] {
  const line = anchorLine(seal);
  return [
    ...targets.files.map((file) => attempt(file, () => appendAnchor(file, line))),
    ...targets.git.map((repo) => attempt(repo, () => commitAnchor(repo, seal.run_id, line))),
  ];
}

function attempt(target: string, work: () => string): AnchorOutcome {
  try {
    return { target, ok: true, detail: work() };
  } catch (error) {
    return { target, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/** Append and fsync: the file is opened for appending only, never rewritten. */
function appendAnchor(file: string, line: string): string {
  writeSynced(file, 'a', 0o600, line);
  return `appended to ${file}`;
}

/** The file a run's seal has in an anchor repository (a name safe for any run id). */
export function anchorPathOf(runId: string): string {
  const name = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId) ? runId : sha256Hex(runId);
  return `seals/${name}.json`;
}

/** A commit that adds the run's seal file; one already there is never replaced. */
function commitAnchor(repo: string, runId: string, line: string): string {
  const path = anchorPathOf(runId);
  const committed = git(repo, ['show', `HEAD:${path}`], true);
  if (committed.ok) {
    if (committed.out === line) return `already committed in ${repo}`;
    throw new Error(`${repo} already holds another seal for run ${runId}: not replaced`);
  }
  git(repo, ['rev-parse', '--is-inside-work-tree']);
  mkdirSync(join(repo, 'seals'), { recursive: true });
  writeSynced(join(repo, path), 'wx', 0o644, line); // a file that must not exist yet
  git(repo, ['add', '--', path]);
  git(repo, ['commit', '--quiet', '--no-verify', '-m', `agentk seal ${runId}`, '--', path]);
  return `committed to ${repo}`;
}

/** Write `text` to a file opened with `flags`, and fsync it before closing. */
function writeSynced(file: string, flags: 'a' | 'wx', mode: number, text: string): void {
  const fd = openSync(file, flags, mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function git(
  repo: string,
  args: readonly string[],
  mayFail = false,
): { readonly ok: boolean; readonly out: string } {
  const run = spawnSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    timeout: GIT_TIMEOUT_MS,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_AUTHOR_NAME: 'agentk',
      GIT_AUTHOR_EMAIL: 'agentk@localhost',
      GIT_COMMITTER_NAME: 'agentk',
      GIT_COMMITTER_EMAIL: 'agentk@localhost',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: process.env.HOME ?? '/',
    },
  });
  const ok = run.status === 0;
  if (!ok && !mayFail) {
    const why = run.error?.message ?? (run.stderr || '').split('\n')[0] ?? '';
    throw new Error(`git ${args[0]} in ${repo} failed: ${why || `exit ${run.status}`}`);
  }
  return { ok, out: run.stdout ?? '' };
}

/**
 * What each anchor says of a log's seal: `match` when it holds this seal for the run (and
 * no other), `mismatch` when it holds a different one (the log was rewritten and sealed
 * again, or the anchor was), `missing` when it holds none for the run.
 */
export function checkAnchors(seal: SealEvent, targets: AnchorTargets): AnchorCheck[] {
  const expected = anchorRecordOf(seal);
  return [
    ...targets.files.map((file) => judge(file, expected, () => fileRecords(file, seal.run_id))),
    ...targets.git.map((repo) => judge(repo, expected, () => gitRecords(repo, seal.run_id))),
  ];
}

function judge(
  target: string,
  expected: AnchorRecord,
  read: () => readonly Record<string, unknown>[],
): AnchorCheck {
  try {
    return judgeRecords(target, expected, read());
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { target, status: 'unreadable', detail: why };
  }
}

function judgeRecords(
  target: string,
  expected: AnchorRecord,
  records: readonly Record<string, unknown>[],
): AnchorCheck {
  if (records.length === 0) {
    return { target, status: 'missing', detail: `no seal of run ${expected.run_id} anchored` };
  }
  for (const record of records) {
    const differs = (Object.keys(expected) as (keyof AnchorRecord)[]).filter(
      (key) => record[key] !== expected[key],
    );
    if (differs.length > 0 || Object.keys(record).length !== Object.keys(expected).length) {
      const named = differs.length > 0 ? differs.join(', ') : 'its members';
      return {
        target,
        status: 'mismatch',
        detail: `the anchored seal of run ${expected.run_id} differs in ${named}`,
      };
    }
  }
  const times = records.length === 1 ? '' : ` (${records.length} times)`;
  return { target, status: 'match', detail: `seal anchored${times}` };
}

/** The anchor records of a run in an anchor file (lines of other runs are skipped). */
function fileRecords(file: string, runId: string): Record<string, unknown>[] {
  const size = statSync(file).size;
  if (size > MAX_ANCHOR_FILE) throw new Error(`${file} is larger than ${MAX_ANCHOR_FILE} bytes`);
  return recordsOfRun(readFileSync(file, 'utf8'), runId);
}

/** The anchor records of run `runId` among JSON lines (other lines are skipped). */
function recordsOfRun(text: string, runId: string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || !line.includes(runId)) continue;
    const record = recordIn(line);
    if (record !== null && record.run_id === runId) records.push(record);
  }
  return records;
}

/** The run's seal file as committed at HEAD (the work tree is not trusted). */
function gitRecords(repo: string, runId: string): Record<string, unknown>[] {
  git(repo, ['rev-parse', '--is-inside-work-tree']);
  const committed = git(repo, ['show', `HEAD:${anchorPathOf(runId)}`], true);
  if (!committed.ok) return [];
  const record = recordIn(committed.out.trimEnd());
  if (record === null || record.run_id !== runId) {
    throw new Error(`${repo}: ${anchorPathOf(runId)} is not a seal anchor of run ${runId}`);
  }
  return [record];
}

function recordIn(line: string): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { anchor, type } = parsed as { anchor?: unknown; type?: unknown };
  if (type !== ANCHOR_TYPE || typeof anchor !== 'object' || anchor === null) return null;
  return anchor as Record<string, unknown>;
}

/** POST the seal's anchor line to each service (2xx: anchored). Never throws. */
export async function anchorSealOverHttp(
  seal: SealEvent,
  anchors: readonly HttpAnchor[],
): Promise<AnchorOutcome[]> {
  const body = anchorLine(seal);
  return Promise.all(
    anchors.map(async ({ url, headers }) => {
      const target = shownUrl(url);
      try {
        const answer = await fetch(url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        });
        await answer.body?.cancel();
        if (answer.ok) return { target, ok: true, detail: `posted to ${target}` };
        return { target, ok: false, detail: `${target} answered HTTP ${answer.status}` };
      } catch (error) {
        return { target, ok: false, detail: `cannot reach ${target} (${failureName(error)})` };
      }
    }),
  );
}

/** What each anchor service holds for the run (`GET url?run_id=`; 404: none). */
export async function checkAnchorsOverHttp(
  seal: SealEvent,
  anchors: readonly HttpAnchor[],
): Promise<AnchorCheck[]> {
  const expected = anchorRecordOf(seal);
  return Promise.all(
    anchors.map(async ({ url, headers }): Promise<AnchorCheck> => {
      const target = shownUrl(url);
      const query = new URL(url);
      query.searchParams.set('run_id', seal.run_id);
      try {
        const answer = await fetch(query, {
          headers: { ...headers },
          redirect: 'error',
          signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        });
        if (answer.status === 404) {
          await answer.body?.cancel();
          return judgeRecords(target, expected, []);
        }
        if (!answer.ok) {
          await answer.body?.cancel();
          return {
            target,
            status: 'unreadable',
            detail: `${target} answered HTTP ${answer.status}`,
          };
        }
        const text = await boundedText(answer, MAX_HTTP_ANSWER);
        if (text === null) {
          return {
            target,
            status: 'unreadable',
            detail: `${target} answered more than ${MAX_HTTP_ANSWER} bytes`,
          };
        }
        return judgeRecords(target, expected, recordsOfRun(text, seal.run_id));
      } catch (error) {
        return {
          target,
          status: 'unreadable',
          detail: `cannot reach ${target} (${failureName(error)})`,
        };
      }
    }),
  );
}

/** A body as text, or null past `limit` bytes (reading stops there). */
async function boundedText(answer: Response, limit: number): Promise<string | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of answer.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) {
      await answer.body?.cancel();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A network failure's kind (its code or class), never a message that could echo headers. */
function failureName(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'error';
}
