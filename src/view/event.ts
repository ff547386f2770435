// One event as the viewer shows it: trace-inspect's description of it, plus what the page
// filters and links by (its line, the time since the event before, its MCP server, how its
// decision reads).

import type { SyscallEvent } from '../recorder/event.js';
import type { InspectedEvent } from '../review/inspect.js';
import { type EvidenceRecord, evidenceRecords, packedReceipt, pinOf } from './records.js';

/** How an event's decision reads: `approved` is an ask a person allowed. */
export type ShownVerdict = 'allow' | 'deny' | 'ask' | 'approved';

export interface ViewEvent {
  readonly step: number;
  /** 1-based line of the file (checkpoint lines take lines too). */
  readonly line: number;
  readonly ts: string;
  /** Milliseconds since the event before, or null for the first. */
  readonly dt: number | null;
  readonly agent: string;
  readonly syscall: string;
  readonly target: string;
  /** The MCP server the event is about (the target's first segment), or null. */
  readonly server: string | null;
  readonly verdict: ShownVerdict;
  readonly effect: string;
  readonly rule: string;
  readonly reason: string;
  readonly missing_capability: string | null;
  readonly labels: readonly string[];
  readonly evidence: InspectedEvent['evidence'];
  readonly provenance: readonly string[];
  readonly lineage: readonly string[];
  readonly session: string | null;
  readonly shadow: string | null;
  readonly request_hash: string;
  readonly event_hash: string;
  /** Its receipt, packed (records.ts: what the event does not already say), or null. */
  readonly receipt: readonly (string | null)[] | null;
  /** Its secret handle, approval and catalogue pin, field by field. */
  readonly records: readonly EvidenceRecord[];
  /** The catalogue pin state it records, or null (for the summary; records show it). */
  readonly pin: string | null;
}

/** Kinds whose target is `server/name` (mcp/mediation). */
const MCP_KIND = /^(tool|resource|prompt)\./;

export function shownVerdict(event: SyscallEvent): ShownVerdict {
  const { verdict, effect } = event.decision;
  if (verdict === 'allow' && effect === 'ask') return 'approved';
  return verdict;
}

export function serverOf(event: SyscallEvent): string | null {
  if (!MCP_KIND.test(event.syscall.kind)) return null;
  const slash = event.syscall.target.indexOf('/');
  return slash > 0 ? event.syscall.target.slice(0, slash) : null;
}

export function viewEvent(
  event: SyscallEvent,
  line: number,
  inspected: InspectedEvent,
  previousTs: string | undefined,
): ViewEvent {
  const dt = previousTs !== undefined ? Date.parse(event.ts) - Date.parse(previousTs) : null;
  return {
    step: event.step,
    line,
    ts: event.ts,
    dt: dt !== null && Number.isFinite(dt) ? dt : null,
    agent: event.agent_id,
    syscall: inspected.syscall,
    target: inspected.target,
    server: serverOf(event),
    verdict: shownVerdict(event),
    effect: inspected.effect,
    rule: inspected.rule,
    reason: inspected.reason,
    missing_capability: inspected.missing_capability,
    labels: inspected.labels,
    evidence: inspected.evidence,
    provenance: inspected.provenance,
    lineage: inspected.lineage,
    session: inspected.session ?? null,
    shadow: inspected.shadow ?? null,
    request_hash: event.decision.request_hash,
    event_hash: event.event_hash,
    receipt: packedReceipt(event),
    records: evidenceRecords(event),
    pin: pinOf(event),
  };
}
