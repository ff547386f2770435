// A flight log's decisions, one line per event, with what varies from run to run (times,
// run ids, random receipt and handle ids, hashes over them, signatures) taken out: what
// a refactoring of the kernel or the proxy must leave exactly as it was. Used by the
// golden comparison of the eval's and the demo's traces (test/eval/decisions.test.ts).

import { homedir } from 'node:os';
import type { CheckpointLine, FlightEvent } from '../../src/recorder/event.js';

/** Stable stand-ins for the random parts of a trace, numbered by first appearance. */
class Renumber {
  readonly #seen = new Map<string, number>();
  constructor(readonly prefix: string) {}
  name(id: string): string {
    let n = this.#seen.get(id);
    if (n === undefined) {
      n = this.#seen.size + 1;
      this.#seen.set(id, n);
    }
    return `${this.prefix}#${n}`;
  }
}

function normalized(text: string, handles: Renumber, receipts: Renumber): string {
  return (
    text
      .replace(/secret_fd_[0-9a-f]{32}/g, (id) => handles.name(id))
      .replace(/rcpt_[0-9a-f]{32}/g, (id) => receipts.name(id))
      .replace(/\b[0-9a-f]{64}\b/g, '<sha256>')
      // The approvals directory a denial names lies in the run's temporary directory.
      .replace(/--approvals-dir \S+?(?=`)/g, '--approvals-dir <dir>')
      // So do the paths a scenario's relative arguments resolve to (detail.values).
      .replace(/"[^"]*\/agentk-eval-[A-Za-z0-9]{6}\//g, '"<run-dir>/')
      // And `~/...` arguments to the home directory of the machine that runs them.
      .replaceAll(`"${homedir()}/`, '"<home>/')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, '<time>')
  );
}

/** Keys in sorted order, so that the line does not depend on how an object was built. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** An event's detail with its provenance hits folded to the labels each argument got. */
function tracedArguments(detail: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { provenance, ...rest } = detail as { provenance?: { arg: string; labels: string[] }[] };
  if (provenance === undefined) return rest;
  const byArg: Record<string, string[]> = {};
  for (const hit of provenance) {
    byArg[hit.arg] = [...new Set([...(byArg[hit.arg] ?? []), ...hit.labels])].sort();
  }
  return { ...rest, provenance: byArg };
}

/** One line per event of a JSONL flight log: what was decided, on what, and why. */
export function decisionLines(trace: string): string[] {
  const handles = new Renumber('secret_fd_');
  const receipts = new Renumber('rcpt_');
  const out: string[] = [];
  for (const line of trace.split('\n')) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as FlightEvent | CheckpointLine;
    // Where a checkpoint lands depends on timing; it decides nothing.
    if (event.type === 'checkpoint') continue;
    if (event.type === 'seal') {
      out.push(`${event.step} seal count=${event.seal.event_count}`);
      continue;
    }
    if (event.type === 'sandbox') {
      out.push(`${event.step} sandbox ${event.sandbox.event} ${event.sandbox.server_id}`);
      continue;
    }
    const { syscall, decision } = event;
    const receipt = decision.receipt
      ? { scope: decision.receipt.scope, step: decision.receipt.step }
      : null;
    const handle = decision.secret_handle
      ? {
          id: decision.secret_handle.id,
          target: decision.secret_handle.target,
          scope: decision.secret_handle.scope,
          labels: decision.secret_handle.labels,
        }
      : null;
    const projected = {
      // Which pages an argument was traced to, as the labels they gave it: the pages
      // themselves can vary from run to run, because a shared substring shorter than the
      // fingerprints' guaranteed length is found or not depending on the text around it,
      // and that text holds random handle ids (docs/architecture.md, "Golden decisions").
      agent: event.agent_id,
      kind: syscall.kind,
      target: syscall.target,
      intent: syscall.intent,
      capability: syscall.capability,
      verdict: decision.verdict,
      effect: decision.effect,
      rule: decision.rule,
      reason: decision.reason,
      missing: decision.missing_capability,
      shadow: decision.shadow ?? null,
      labels: syscall.labels,
      control: syscall.control_labels,
      sinks: syscall.sinks,
      inputs: syscall.inputs,
      detail: syscall.detail ? tracedArguments(syscall.detail) : null,
      receipt,
      handle,
    };
    out.push(`${event.step} ${normalized(JSON.stringify(sorted(projected)), handles, receipts)}`);
  }
  return out;
}
