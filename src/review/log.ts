// Reading a verified log for review. Every review tool works only on a log whose chain
// verifies: an unsealed log (a crash, a cut tail) can be reviewed up to its last intact
// event and says so; a tampered one is refused, because conclusions drawn from altered
// evidence are worthless.

import { AgentkError } from '../errors.js';
import type { SandboxEvent, SealEvent, SyscallEvent } from '../recorder/event.js';
import { type ChainFailure, verifyLogFile } from '../recorder/verify.js';

export interface ReviewedLog {
  readonly path: string;
  /** `sealed`, or `unsealed` (intact but possibly truncated). */
  readonly status: 'sealed' | 'unsealed';
  readonly runId: string;
  /** The syscalls: what review, replay and fork work on. */
  readonly events: readonly SyscallEvent[];
  /** The sandbox's own events (its profile, a limit hit): not syscalls, nothing decided. */
  readonly sandbox: readonly SandboxEvent[];
  readonly seal: SealEvent | null;
}

/** A log that fails verification: the CLI reports it as a failed check (exit 1). */
export function tamperedLog(path: string, failure: ChainFailure): AgentkError {
  return new AgentkError(
    'LOG_TAMPERED',
    `${path}:${failure.line}: ${failure.detail} [${failure.code}]; refusing to review a log that does not verify`,
  );
}

export function readReviewedLog(path: string): ReviewedLog {
  const events: SyscallEvent[] = [];
  const sandbox: SandboxEvent[] = [];
  let seal: SealEvent | null = null;
  const chain = verifyLogFile(path, (event) => {
    if (event.type === 'seal') seal = event;
    else if (event.type === 'sandbox') sandbox.push(event);
    else events.push(event);
    return undefined;
  });
  if (!chain.ok && chain.code !== 'unsealed') {
    if (chain.code === 'empty') throw new AgentkError('FILE_UNREADABLE', `${path} holds no events`);
    throw tamperedLog(path, chain);
  }
  return {
    path,
    status: chain.ok ? 'sealed' : 'unsealed',
    // A session that recorded nothing (its server died at start) is a seal alone.
    runId: events[0]?.run_id ?? (seal as SealEvent | null)?.run_id ?? '',
    events,
    sandbox,
    seal,
  };
}

/** Counts in a stable order: by count descending, then by key. */
export function sortedCounts(counts: ReadonlyMap<string, number>): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function increment(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}
