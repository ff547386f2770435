// replay: a deterministic, side-effect-free re-walk of a verified log. Nothing is
// executed and no output is invented: each allowed model, tool or network syscall gets a
// synthetic `stub_output_sha256`, derived from its event hash, standing in for the output
// a real re-run would have produced. The same log always replays to the same report.

import { domainHash } from '../crypto/index.js';
import type { SyscallEvent } from '../recorder/event.js';
import { increment, type ReviewedLog, sortedCounts } from './log.js';

export const STUB_DOMAIN = 'agentk/replay-stub/v1';

/** Syscalls whose effect produces an output a replay must stand in for. */
export const SIDE_EFFECT_KINDS: readonly string[] = ['model.call', 'tool.invoke', 'network.send'];

export function stubOutputHash(event: SyscallEvent): string {
  return domainHash(STUB_DOMAIN, event.event_hash);
}

export function hasStubOutput(event: SyscallEvent): boolean {
  return event.decision.verdict === 'allow' && SIDE_EFFECT_KINDS.includes(event.syscall.kind);
}

export interface ReplayedEvent {
  readonly step: number;
  readonly syscall: string;
  readonly target: string;
  readonly verdict: string;
  readonly rule: string;
  readonly stub_output_sha256: string | null;
}

export interface Replay {
  readonly log: string;
  readonly status: string;
  readonly run_id: string;
  readonly events: readonly ReplayedEvent[];
  readonly stubs: number;
  readonly executed: 0;
  readonly blocked_by_rule: Record<string, number>;
}

export function replayLog(log: ReviewedLog): Replay {
  const blocked = new Map<string, number>();
  let stubs = 0;
  const events = log.events.map((event): ReplayedEvent => {
    if (event.decision.verdict !== 'allow') increment(blocked, event.decision.rule);
    const stub = hasStubOutput(event) ? stubOutputHash(event) : null;
    if (stub) stubs += 1;
    return {
      step: event.step,
      syscall: event.syscall.kind,
      target: event.syscall.target,
      verdict: event.decision.verdict,
      rule: event.decision.rule,
      stub_output_sha256: stub,
    };
  });
  return {
    log: log.path,
    status: log.status,
    run_id: log.runId,
    events,
    stubs,
    executed: 0,
    blocked_by_rule: Object.fromEntries(sortedCounts(blocked)),
  };
}
