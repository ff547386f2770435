// Retention of the proxy's flight logs in the state directory: at most `keep` runs, none
// older than `maxAgeDays`, at most `maxBytes` in all, per workspace; the oldest (last
// written) go first. Never removed: the target of a `latest` link, and a run a proxy may
// still be writing (config/runs.ts isLive). Links that point at nothing, and `.live`
// markers left by a proxy that is gone, are removed too. The proxy applies the default
// limits at start (`applyRetention`); `agentk runs prune` applies any.
// Input distrusted: the environment's limits, the directory's contents.

import { lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AgentkError } from '../errors.js';
import { endsSealed, isLive, LIVE_SUFFIX, latestTargets, type RunFile, runFiles } from './runs.js';

export interface RetentionLimits {
  /** Runs kept at most. */
  readonly keep: number;
  /** Days a run is kept at most (since it was last written). */
  readonly maxAgeDays: number;
  /** Bytes kept at most, all runs together. */
  readonly maxBytes: number;
}

export const MB = 1024 * 1024;
export const DEFAULT_RETENTION: RetentionLimits = { keep: 200, maxAgeDays: 30, maxBytes: 500 * MB };

/** The variables that set the limits, and the one that turns automatic pruning off. */
export const RETENTION_ENV = {
  keep: 'AGENTK_RUNS_KEEP',
  maxAgeDays: 'AGENTK_RUNS_MAX_AGE_DAYS',
  maxSizeMb: 'AGENTK_RUNS_MAX_SIZE_MB',
  off: 'AGENTK_RUNS_RETENTION',
} as const;

/** A limit as given (flag or variable): a non-negative number, whole where it counts runs. */
export function parseLimit(text: string, name: string, whole: boolean): number {
  const value = Number(text);
  const ok = whole ? /^\d{1,9}$/.test(text) : /^\d{1,9}(?:\.\d{1,6})?$/.test(text);
  if (!ok || !Number.isFinite(value)) {
    throw new AgentkError(
      'USAGE',
      `${name} must be ${whole ? 'a whole number' : 'a number'} of 0 or more`,
    );
  }
  return value;
}

/**
 * The limits the environment sets over the defaults, `null` when automatic pruning is
 * off (`AGENTK_RUNS_RETENTION=off`). Throws AgentkError('USAGE') naming a bad variable.
 */
export function retentionFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): RetentionLimits | null {
  if (env[RETENTION_ENV.off] === 'off') return null;
  const given = (name: string) => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const keep = given(RETENTION_ENV.keep);
  const age = given(RETENTION_ENV.maxAgeDays);
  const size = given(RETENTION_ENV.maxSizeMb);
  return {
    keep: keep === undefined ? DEFAULT_RETENTION.keep : parseLimit(keep, RETENTION_ENV.keep, true),
    maxAgeDays:
      age === undefined
        ? DEFAULT_RETENTION.maxAgeDays
        : parseLimit(age, RETENTION_ENV.maxAgeDays, false),
    maxBytes:
      size === undefined
        ? DEFAULT_RETENTION.maxBytes
        : parseLimit(size, RETENTION_ENV.maxSizeMb, false) * MB,
  };
}

export type PruneReason = 'count' | 'age' | 'size';

export interface PruneResult {
  readonly dir: string;
  readonly dryRun: boolean;
  /** Runs removed (or, dry, that would be), oldest last, with the limit each exceeded. */
  readonly removed: readonly { name: string; bytes: number; reason: PruneReason }[];
  /** Links that pointed at nothing, and markers of proxies that are gone. */
  readonly cleaned: readonly string[];
  /**
   * Runs kept because a `latest` link points at them or a proxy may be writing them, all
   * of them (they count against no limit: `--keep 1` keeps one more than these).
   */
  readonly protected: readonly { name: string; why: 'latest' | 'live' }[];
  readonly kept: number;
  readonly keptBytes: number;
  readonly freedBytes: number;
  /** Files that could not be removed, with the error code. */
  readonly failed: readonly { name: string; code: string }[];
}

/** The limit a run exceeds, kept runs before it counted; null if it stays. */
function exceeded(
  file: RunFile,
  kept: { count: number; bytes: number },
  limits: RetentionLimits,
  now: number,
): PruneReason | null {
  if (now - file.modifiedMs > limits.maxAgeDays * 86_400_000) return 'age';
  if (kept.count >= limits.keep) return 'count';
  if (kept.bytes + file.bytes > limits.maxBytes) return 'size';
  return null;
}

function remove(dir: string, name: string, failed: { name: string; code: string }[]): boolean {
  try {
    rmSync(join(dir, name), { force: true });
    return true;
  } catch (error) {
    failed.push({ name, code: (error as NodeJS.ErrnoException).code ?? 'error' });
    return false;
  }
}

/** Links to nothing, and `.live` markers whose trace is sealed, gone, or not written. */
function strays(dir: string, runs: readonly RunFile[], now: number): string[] {
  const byName = new Map(runs.map((file) => [file.name, file]));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => {
    const path = join(dir, name);
    try {
      if (name.endsWith(LIVE_SUFFIX)) {
        const run = byName.get(name.slice(0, -LIVE_SUFFIX.length));
        return run === undefined || endsSealed(run) || !isLive(run, now);
      }
      if (!lstatSync(path).isSymbolicLink()) return false;
    } catch {
      return false;
    }
    try {
      statSync(path);
      return false;
    } catch {
      return true;
    }
  });
}

/** Remove the runs of `dir` beyond `limits` (nothing with `dryRun`). */
export function pruneRuns(
  dir: string,
  limits: RetentionLimits,
  options: { readonly dryRun?: boolean; readonly now?: number } = {},
): PruneResult {
  const now = options.now ?? Date.now();
  const dryRun = options.dryRun === true;
  const runs = runFiles(dir);
  const latest = latestTargets(dir);
  const kept = { count: 0, bytes: 0 };
  /** What the kept runs that could have been removed spend of the limits. */
  const budget = { count: 0, bytes: 0 };
  const removed: { name: string; bytes: number; reason: PruneReason }[] = [];
  const guarded: { name: string; why: 'latest' | 'live' }[] = [];
  const failed: { name: string; code: string }[] = [];
  for (const file of runs) {
    const why = latest.has(file.name)
      ? 'latest'
      : !endsSealed(file) && isLive(file, now)
        ? 'live'
        : null;
    // A run that is never removed does not spend the budget either: a server that makes
    // its own latest trace huge must not push every other run (and its evidence) out.
    const reason = exceeded(file, budget, limits, now);
    if (why !== null) guarded.push({ name: file.name, why });
    else if (reason !== null && (dryRun || remove(dir, file.name, failed))) {
      removed.push({ name: file.name, bytes: file.bytes, reason });
      if (!dryRun) remove(dir, `${file.name}${LIVE_SUFFIX}`, failed);
      continue;
    } else {
      budget.count += 1;
      budget.bytes += file.bytes;
    }
    kept.count += 1;
    kept.bytes += file.bytes;
  }
  const gone = new Set(removed.map((run) => run.name));
  const left = runs.filter((file) => !gone.has(file.name));
  const cleaned = strays(dir, left, now).filter((name) => dryRun || remove(dir, name, failed));
  return {
    dir,
    dryRun,
    removed,
    cleaned,
    protected: guarded,
    kept: kept.count,
    keptBytes: kept.bytes,
    freedBytes: removed.reduce((sum, run) => sum + run.bytes, 0),
    failed,
  };
}

/**
 * Keep a workspace's runs within `limits`: what the proxy calls at start, for the runs
 * directory of the state directory only (never a directory the user named).
 */
export function applyRetention(
  dirs: { readonly runs: string },
  limits: RetentionLimits,
  options: { readonly dryRun?: boolean; readonly now?: number } = {},
): PruneResult {
  return pruneRuns(dirs.runs, limits, options);
}
