// `agentk trace-inspect <log>`: a redacted, human view of a verified flight log.

import { type Inspection, inspectLog } from '../../review/inspect.js';
import { readReviewedLog } from '../../review/log.js';
import { type Command, flag, json } from '../command.js';
import { EXIT, printable, table } from '../io.js';

function counts(record: Record<string, number>): string[] {
  const rows = Object.entries(record).map(([key, count]) => [`    ${key}`, String(count)]);
  return rows.length > 0 ? table(rows) : ['    (none)'];
}

export const traceInspectCommand: Command = {
  name: 'trace-inspect',
  usage: `agentk trace-inspect <log> [--json]

Verifies the log, then lists each event (step, syscall, target, verdict, rule, reason,
missing capability, labels, evidence as reference type and hash) and summarises blocked
events by rule, events by syscall and evidence by reference type. Raw inputs never
appear (the log holds only their hashes); secret-handle ids are hidden.`,
  options: { json: { type: 'boolean' } },
  positionals: [1, 1],
  run(args, io) {
    const inspection = inspectLog(readReviewedLog(args.positionals[0] as string));
    if (flag(args, 'json')) {
      io.stdout(json(inspection));
      return EXIT.ok;
    }
    const lines = [
      `Trace ${inspection.log}: ${inspection.status}, ${inspection.events.length} events, run ${inspection.run_id}`,
      '',
      ...table([
        ['step', 'verdict', 'syscall', 'target', 'rule', 'labels'],
        ...inspection.events.map((event) => [
          String(event.step).padStart(4),
          event.verdict === event.effect ? event.verdict : `${event.verdict} (${event.effect})`,
          event.syscall,
          event.target.length > 40 ? `${event.target.slice(0, 39)}…` : event.target,
          event.rule,
          event.labels.join(', ') || '-',
        ]),
      ]).flatMap((row, i) => {
        const event = inspection.events[i - 1];
        if (!event) return [row];
        const details = [`       reason: ${event.reason}`];
        if (event.missing_capability)
          details.push(`       missing capability: ${event.missing_capability}`);
        if (event.agent !== inspection.events[0]?.agent)
          details.push(`       agent: ${event.agent}`);
        if (event.evidence.length > 0) {
          details.push(
            `       evidence: ${event.evidence
              .map((item) =>
                item.sha256 ? `${item.ref} sha256:${item.sha256.slice(0, 12)}` : item.ref,
              )
              .join(', ')}`,
          );
        }
        for (const hit of event.provenance) details.push(`       provenance: ${hit}`);
        for (const hit of event.lineage) details.push(`       lineage: ${hit}`);
        if (event.session) details.push(`       session: ${event.session}`);
        if (event.shadow !== undefined && event.shadow !== `${event.effect}:${event.rule}`) {
          details.push(`       shadow policy: ${event.shadow}`);
        }
        return [row, ...details];
      }),
      '',
      ...sandboxLines(inspection),
      ...(inspection.summary.compromised.length > 0
        ? [
            '  sessions compromised:',
            ...inspection.summary.compromised.map(
              (c) => `    step ${c.step} (${c.agent}): ${c.by}`,
            ),
          ]
        : []),
      '  blocked by rule:',
      ...counts(inspection.summary.blocked_by_rule),
      '  events by syscall:',
      ...counts(inspection.summary.events_by_syscall),
      '  evidence by reference type:',
      ...counts(inspection.summary.evidence_by_type),
      ...(inspection.summary.shadow_disagreements
        ? [
            '  shadow policy disagrees (enforced -> shadow):',
            ...counts(inspection.summary.shadow_disagreements),
          ]
        : []),
      '',
    ];
    io.stdout(lines.map(printable).join('\n'));
    return EXIT.ok;
  },
};

/** The sandbox's events (the server's profile, a limit it hit), when there are any. */
function sandboxLines(inspection: Inspection): string[] {
  if (inspection.sandbox === undefined) return [];
  return [
    '  sandbox:',
    ...inspection.sandbox.map((item) => `    step ${item.step} (${item.server_id}): ${item.text}`),
  ];
}
