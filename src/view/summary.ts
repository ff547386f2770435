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

function bar(verdicts: readonly ShownVerdict[]): Record<ShownVerdict, number>[] {
  const buckets = Math.min(BAR_BUCKETS, verdicts.length);
  const out = Array.from({ length: buckets }, () => ({ allow: 0, deny: 0, ask: 0, approved: 0 }));
  verdicts.forEach((verdict, i) => {
    const bucket = out[Math.floor((i * buckets) / verdicts.length)];
    if (bucket) bucket[verdict] += 1;
  });
  return out;
}

/** The summary's counts, kept as events come (in order); `result()` says them. */
export class Summarizer {
  readonly #byVerdict: Record<ShownVerdict, number> = { allow: 0, deny: 0, ask: 0, approved: 0 };
  readonly #blockedByRule = new Map<string, number>();
  readonly #byRule = new Map<string, number>();
  readonly #servers = new Map<string, number>();
  readonly #tools = new Map<string, number>();
  readonly #labels = new Map<string, number>();
  readonly #agents = new Map<string, number>();
  readonly #blocked: BlockedAction[] = [];
  #blockedTotal = 0;
  readonly #verdicts: ShownVerdict[] = [];

  add(event: ViewEvent): void {
    this.#byVerdict[event.verdict] += 1;
    this.#verdicts.push(event.verdict);
    increment(this.#byRule, event.rule);
    increment(this.#agents, event.agent);
    if (event.server !== null) increment(this.#servers, event.server);
    if (event.syscall === 'tool.invoke') increment(this.#tools, event.target);
    for (const label of event.labels) increment(this.#labels, label);
    if (event.verdict === 'deny' || event.verdict === 'ask') {
      increment(this.#blockedByRule, event.rule);
      this.#blockedTotal += 1;
      if (this.#blocked.length < BLOCKED_SHOWN) {
        const { step, verdict, syscall, target, rule, reason } = event;
        this.#blocked.push({ step, verdict, syscall, target, rule, reason });
      }
    }
  }

  /** The summary of the events added, with trace-inspect's counts over the same events. */
  result(inspection: Inspection['summary']): ViewSummary {
    return {
      by_verdict: { ...this.#byVerdict },
      blocked_by_rule: counted(this.#blockedByRule),
      by_rule: counted(this.#byRule),
      by_syscall: inspection.events_by_syscall,
      servers: counted(this.#servers),
      tools: counted(this.#tools),
      labels: counted(this.#labels),
      agents: counted(this.#agents),
      blocked: [...this.#blocked],
      blocked_total: this.#blockedTotal,
      compromised: inspection.compromised,
      evidence_by_type: inspection.evidence_by_type,
      bar: bar(this.#verdicts),
    };
  }
}
