// The viewer's summary: counts by verdict and rule, the blocked actions first, the MCP
// servers and tools used, and a per-session bar (verdicts over time, in buckets). Counts
// come in a stable order (by count, then name), as trace-inspect's do.

import type { Inspection } from '../review/inspect.js';
import { increment, sortedCounts } from '../review/log.js';
import type { ShownVerdict, ViewEvent } from './event.js';

export interface BlockedAction {
  readonly step: number;
  readonly verdict: ShownVerdict;
  readonly syscall: string;
  readonly target: string;
  readonly rule: string;
  readonly reason: string;
}

export interface ViewSummary {
  readonly by_verdict: Record<ShownVerdict, number>;
  /** Refused or asked events by rule. */
  readonly blocked_by_rule: Record<string, number>;
  readonly by_rule: Record<string, number>;
  readonly by_syscall: Record<string, number>;
  readonly servers: Record<string, number>;
  /** Tools called (tool.invoke targets, `server/tool`). */
  readonly tools: Record<string, number>;
  readonly labels: Record<string, number>;
  readonly agents: Record<string, number>;
  /** The refused and asked actions, in order (at most BLOCKED_SHOWN). */
  readonly blocked: readonly BlockedAction[];
  readonly blocked_total: number;
  readonly compromised: Inspection['summary']['compromised'];
  readonly evidence_by_type: Record<string, number>;
  /** The session over time: BAR_BUCKETS buckets of consecutive events, counts per verdict. */
  readonly bar: readonly Record<ShownVerdict, number>[];
}

export const BLOCKED_SHOWN = 200;
export const BAR_BUCKETS = 60;

const counted = (counts: Map<string, number>) => Object.fromEntries(sortedCounts(counts));

function bar(events: readonly ViewEvent[]): Record<ShownVerdict, number>[] {
  const buckets = Math.min(BAR_BUCKETS, events.length);
  const out = Array.from({ length: buckets }, () => ({ allow: 0, deny: 0, ask: 0, approved: 0 }));
  events.forEach((event, i) => {
    const bucket = out[Math.floor((i * buckets) / events.length)];
    if (bucket) bucket[event.verdict] += 1;
  });
  return out;
}

export function summarize(events: readonly ViewEvent[], inspection: Inspection): ViewSummary {
  const byVerdict: Record<ShownVerdict, number> = { allow: 0, deny: 0, ask: 0, approved: 0 };
  const blockedByRule = new Map<string, number>();
  const byRule = new Map<string, number>();
  const servers = new Map<string, number>();
  const tools = new Map<string, number>();
  const labels = new Map<string, number>();
  const agents = new Map<string, number>();
  const blocked: BlockedAction[] = [];
  let blockedTotal = 0;
  for (const event of events) {
    byVerdict[event.verdict] += 1;
    increment(byRule, event.rule);
    increment(agents, event.agent);
    if (event.server !== null) increment(servers, event.server);
    if (event.syscall === 'tool.invoke') increment(tools, event.target);
    for (const label of event.labels) increment(labels, label);
    if (event.verdict === 'deny' || event.verdict === 'ask') {
      increment(blockedByRule, event.rule);
      blockedTotal += 1;
      if (blocked.length < BLOCKED_SHOWN) {
        const { step, verdict, syscall, target, rule, reason } = event;
        blocked.push({ step, verdict, syscall, target, rule, reason });
      }
    }
  }
  return {
    by_verdict: byVerdict,
    blocked_by_rule: counted(blockedByRule),
    by_rule: counted(byRule),
    by_syscall: inspection.summary.events_by_syscall,
    servers: counted(servers),
    tools: counted(tools),
    labels: counted(labels),
    agents: counted(agents),
    blocked,
    blocked_total: blockedTotal,
    compromised: inspection.summary.compromised,
    evidence_by_type: inspection.summary.evidence_by_type,
    bar: bar(events),
  };
}
