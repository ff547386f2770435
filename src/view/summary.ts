// The viewer's summary: counts by verdict and rule, the blocked actions first, the MCP
// servers and tools used, the catalogue's pin changes, and a bar per session (each agent's
// verdicts over the run's time, in buckets; a spawned sub-agent has a session of its own).
// Counts come in a stable order (by count, then name), as trace-inspect's do.

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

/** A descriptor whose pin is not simply `pinned` (first pinned, changed, new, refused). */
export interface PinChange {
  readonly step: number;
  readonly pin: string;
  readonly syscall: string;
  readonly target: string;
  readonly server: string | null;
  readonly verdict: ShownVerdict;
}

/** One session's bar: its agent and its verdicts per bucket of the run's events. */
export interface SessionBar {
  readonly agent: string;
  readonly events: number;
  /** The step of its first event. */
  readonly first_step: number;
  readonly bar: readonly Record<ShownVerdict, number>[];
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
  /**
   * Each session over time (the first SESSIONS_SHOWN, in order of their first event): the
   * run's events cut into the same BAR_BUCKETS buckets for all, counts per verdict.
   */
  readonly sessions: readonly SessionBar[];
  readonly sessions_total: number;
  /** Descriptors pinned, changed, new or refused by the pins, in order (at most PINS_SHOWN). */
  readonly pins: readonly PinChange[];
  readonly pins_total: number;
  readonly pins_by_state: Record<string, number>;
}

export const BLOCKED_SHOWN = 200;
export const BAR_BUCKETS = 60;
export const SESSIONS_SHOWN = 24;
export const PINS_SHOWN = 200;

const counted = (counts: Map<string, number>) => Object.fromEntries(sortedCounts(counts));

const VERDICT_INDEX: readonly ShownVerdict[] = ['allow', 'deny', 'ask', 'approved'];

/** One bar per session, all on the same buckets of the run's events (so they line up). */
function bars(
  verdicts: readonly number[],
  sessions: readonly number[],
  agents: readonly { agent: string; first: number; events: number }[],
): SessionBar[] {
  const buckets = Math.min(BAR_BUCKETS, verdicts.length);
  const out = agents.map(({ agent, first, events }) => ({
    agent,
    events,
    first_step: first,
    bar: Array.from({ length: buckets }, () => ({ allow: 0, deny: 0, ask: 0, approved: 0 })),
  }));
  verdicts.forEach((verdict, i) => {
    const session = out[sessions[i] as number];
    const bucket = session?.bar[Math.floor((i * buckets) / verdicts.length)];
    if (bucket) bucket[VERDICT_INDEX[verdict] as ShownVerdict] += 1;
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
  /** Per event: its verdict (index) and its session (index into #sessions, -1 unshown). */
  readonly #verdicts: number[] = [];
  readonly #sessionOf: number[] = [];
  readonly #sessionIndex = new Map<string, number>();
  readonly #sessions: { agent: string; first: number; events: number }[] = [];
  #sessionsTotal = 0;
  readonly #pins: PinChange[] = [];
  readonly #pinStates = new Map<string, number>();
  #pinsTotal = 0;

  #session(event: ViewEvent): number {
    let index = this.#sessionIndex.get(event.agent);
    if (index === undefined) {
      this.#sessionsTotal += 1;
      index = this.#sessions.length < SESSIONS_SHOWN ? this.#sessions.length : -1;
      if (index >= 0) this.#sessions.push({ agent: event.agent, first: event.step, events: 0 });
      this.#sessionIndex.set(event.agent, index);
    }
    const session = this.#sessions[index];
    if (session) session.events += 1;
    return index;
  }

  #pin(event: ViewEvent): void {
    if (event.pin === null) return;
    increment(this.#pinStates, event.pin);
    if (event.pin === 'pinned' && event.verdict === 'allow') return;
    this.#pinsTotal += 1;
    if (this.#pins.length >= PINS_SHOWN) return;
    const { step, pin, syscall, target, server, verdict } = event;
    this.#pins.push({ step, pin, syscall, target, server, verdict });
  }

  add(event: ViewEvent): void {
    this.#byVerdict[event.verdict] += 1;
    this.#verdicts.push(VERDICT_INDEX.indexOf(event.verdict));
    this.#sessionOf.push(this.#session(event));
    this.#pin(event);
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
      sessions: bars(this.#verdicts, this.#sessionOf, this.#sessions),
      sessions_total: this.#sessionsTotal,
      pins: [...this.#pins],
      pins_total: this.#pinsTotal,
      pins_by_state: counted(this.#pinStates),
    };
  }
}
