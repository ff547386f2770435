// `agentk runs list|show|prune`: the proxy's flight logs in the state directory, per
// workspace; which runs there are, one run's summary (verified), and retention.

import { join, resolve } from 'node:path';
import {
  DEFAULT_RETENTION,
  MB,
  type PruneResult,
  parseLimit,
  pruneRuns,
  type RetentionLimits,
  retentionFromEnv,
} from '../../config/retention.js';
import {
  listRuns,
  looksLikePath,
  type RunSummary,
  resolveRun,
  runFiles,
  stateWorkspaces,
} from '../../config/runs.js';
import { stateDirs, stateHome } from '../../config/state.js';
import { fingerprintOf } from '../../crypto/index.js';
import { AgentkError, isAgentkError } from '../../errors.js';
import type { SealEvent, SyscallEvent } from '../../recorder/event.js';
import { verifyLogFile } from '../../recorder/verify.js';
import { type Command, flag, json, type ParsedArgs, stringOption, usageError } from '../command.js';
import { type CliIo, EXIT, type ExitCode, printable, shellWord, table } from '../io.js';

/** `1.2 MB`, `340 KB`, `12 B`. */
export function sizeText(bytes: number): string {
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

/** The runs directories a command is about: one workspace's (default cwd's), or all. */
export function runsPlaces(
  args: ParsedArgs,
  io: CliIo,
): { workspace: string | null; runs: string }[] {
  const workspace = stringOption(args, 'workspace');
  if (flag(args, 'all')) {
    if (workspace !== undefined) throw usageError('give --workspace or --all, not both');
    return stateWorkspaces(stateHome(io.env, io.cwd));
  }
  const dirs = stateDirs(io.env, resolve(io.cwd, workspace ?? '.'));
  return [{ workspace: dirs.workspace, runs: dirs.runs }];
}

/**
 * The trace a name means, in the workspace --workspace names (default cwd). A run id not
 * found there is looked for in every workspace (ids are unique), and `latest` there is the
 * newest run of any: a client that starts its servers in another directory (Claude
 * Desktop starts them in /) keeps them elsewhere.
 */
export function traceOf(ref: string, args: ParsedArgs, io: CliIo): string {
  const named = stringOption(args, 'workspace');
  const dirs = stateDirs(io.env, resolve(io.cwd, named ?? '.'));
  try {
    return resolveRun(ref, { runs: dirs.runs, workspace: dirs.workspace, cwd: io.cwd });
  } catch (error) {
    if (named !== undefined || !isAgentkError(error) || error.code !== 'FILE_NOT_FOUND')
      throw error;
    if (ref === 'latest') {
      // The newest run of any workspace: a client may start its proxies elsewhere.
      const newest = stateWorkspaces(dirs.home)
        .flatMap((place) => runFiles(place.runs).slice(0, 1))
        .sort((a, b) => b.modifiedMs - a.modifiedMs)[0];
      if (newest !== undefined) {
        // Said, so that a run of another workspace is never taken for this one's.
        io.stderr(
          `agentk: no runs for ${dirs.workspace}; latest is the newest run of any workspace: ${newest.path}\n`,
        );
        return newest.path;
      }
      throw new AgentkError('FILE_NOT_FOUND', `no runs in ${dirs.home} yet`);
    }
    const elsewhere = stateWorkspaces(dirs.home).flatMap((place) =>
      place.runs === dirs.runs ? [] : runIn(ref, place.runs, io.cwd),
    );
    if (elsewhere.length === 1) return elsewhere[0] as string;
    throw error;
  }
}

/** The run `ref` names in one runs directory, by id or unique prefix (never a path). */
function runIn(ref: string, runs: string, cwd: string): string[] {
  if (looksLikePath(ref)) return [];
  try {
    return [resolveRun(ref, { runs, workspace: runs, cwd })];
  } catch {
    return [];
  }
}

export const runsCommand: Command = {
  name: 'runs',
  usage: `agentk runs list [--workspace DIR | --all] [--json]
agentk runs show <run-id|latest|FILE> [--workspace DIR] [--json]
agentk runs prune [--workspace DIR | --all] [--keep N] [--max-age DAYS] [--max-size MB]
                  [--dry-run] [--json]

The proxy's flight logs, kept per workspace in the state directory
(<state>/workspaces/<name>-<hash>/runs; --workspace names the workspace, default the
current directory; --all: every workspace).

  list    newest (last written) first: run id, server, start, size, events, and status:
          sealed (ends in a seal; not verified here), live (a proxy is writing it),
          unsealed (cut short); "latest" marks the target of a latest link
  show    verify one run and summarise it: events by verdict, the denials with their
          rule (agentk trace-inspect shows every event; agentk why explains a denial).
          A run is a run id, a unique prefix of one, a file name, a path, or latest
  prune   remove the oldest runs beyond the limits (default ${DEFAULT_RETENTION.keep} runs, ${DEFAULT_RETENTION.maxAgeDays} days,
          ${DEFAULT_RETENTION.maxBytes / MB} MB, or $AGENTK_RUNS_KEEP, $AGENTK_RUNS_MAX_AGE_DAYS,
          $AGENTK_RUNS_MAX_SIZE_MB), and links to nothing; never the target of a latest
          link nor a run a proxy is writing. --dry-run lists without removing. The proxy
          does the same at each start (AGENTK_RUNS_RETENTION=off turns that off)`,
  options: {
    workspace: { type: 'string' },
    all: { type: 'boolean' },
    keep: { type: 'string' },
    'max-age': { type: 'string' },
    'max-size': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: [1, 2],
  run(args, io) {
    const action = args.positionals[0] as string;
    const ref = args.positionals[1];
    if (action === 'show') {
      if (ref === undefined) throw usageError('runs show needs a run: a run id, latest or a file');
      return show(traceOf(ref, args, io), flag(args, 'json'), io);
    }
    if (ref !== undefined) throw usageError(`unexpected argument ${JSON.stringify(ref)}`);
    if (action === 'list') return list(runsPlaces(args, io), flag(args, 'json'), io);
    if (action === 'prune') return prune(args, io);
    throw usageError(
      `unknown runs action ${JSON.stringify(action.slice(0, 20))} (list, show, prune)`,
    );
  },
};

function runJson(run: RunSummary) {
  return {
    run_id: run.runId,
    file: run.name,
    path: run.path,
    server_id: run.serverId,
    started: run.started,
    modified: new Date(run.modifiedMs).toISOString(),
    bytes: run.bytes,
    status: run.status,
    events: run.events,
    latest: run.latest.length > 0,
  };
}

function runRow(run: RunSummary): string[] {
  const events = run.events === null ? '?' : String(run.events);
  return [
    `  ${run.runId}`,
    run.serverId ?? '-',
    (run.started ?? new Date(run.modifiedMs).toISOString()).replace('T', ' ').slice(0, 19),
    sizeText(run.bytes),
    `${events} events, ${run.status}`,
    run.latest.length > 0 ? 'latest' : '',
  ];
}

function list(
  places: readonly { workspace: string | null; runs: string }[],
  asJson: boolean,
  io: CliIo,
): ExitCode {
  const found = places.map((place) => ({ ...place, list: listRuns(place.runs) }));
  if (asJson) {
    io.stdout(
      json({
        workspaces: found.map((place) => ({
          workspace: place.workspace,
          runs_dir: place.runs,
          runs: place.list.map(runJson),
        })),
      }),
    );
    return EXIT.ok;
  }
  const lines = found.flatMap((place) => {
    const name = place.workspace ?? '(workspace unknown)';
    if (place.list.length === 0) {
      const hint =
        places.length !== 1
          ? []
          : [
              'agentk runs list --all shows every workspace (the directory a proxy runs in names it)',
            ];
      return [`no runs for ${name} in ${place.runs}`, ...hint];
    }
    const bytes = place.list.reduce((sum, run) => sum + run.bytes, 0);
    return [
      `${name}: ${place.list.length} run${place.list.length === 1 ? '' : 's'}, ${sizeText(bytes)} in ${place.runs}`,
      ...table(place.list.map(runRow)),
    ];
  });
  if (found.length === 0) lines.push('no runs in the state directory');
  for (const place of places.length === 1 ? places : []) lines.push(...olderRuns(place.workspace));
  io.stdout(`${lines.map(printable).join('\n')}\n`);
  return EXIT.ok;
}

/**
 * Traces under the workspace's own .agentk/runs (the demo's, or those of an AgentK from
 * before the state directory): not runs of the state directory, so only pointed at, never
 * pruned, but a person who looks for them here should learn where they are.
 */
function olderRuns(workspace: string | null): string[] {
  if (workspace === null) return [];
  const dir = join(workspace, '.agentk', 'runs');
  const traces = runFiles(dir).filter((file) => file.name !== 'latest.jsonl');
  if (traces.length === 0) return [];
  const count = `${traces.length} trace${traces.length === 1 ? '' : 's'}`;
  return [
    `also ${count} in ${dir} (the demo's, or from an AgentK before the state directory): agentk runs show FILE, agentk verify FILE`,
  ];
}

const SHOWN_DENIALS = 20;

/** Verify a run and summarise it: counts by verdict, its denials, its seal. */
function show(path: string, asJson: boolean, io: CliIo): ExitCode {
  const verdicts: Record<string, number> = { allow: 0, deny: 0, ask: 0 };
  const denials: SyscallEvent[] = [];
  let first: SyscallEvent | null = null;
  let seal: SealEvent | null = null;
  const chain = verifyLogFile(path, (event) => {
    if (event.type === 'seal') seal = event;
    else if (event.type === 'syscall') {
      first ??= event;
      verdicts[event.decision.verdict] = (verdicts[event.decision.verdict] ?? 0) + 1;
      if (event.decision.verdict !== 'allow') denials.push(event);
    }
    return undefined;
  });
  const sealed = seal as SealEvent | null;
  const start = first as SyscallEvent | null;
  const status = chain.ok
    ? `sealed and verified (signer ${fingerprintOf(chain.seal.seal.public_key)})`
    : chain.code === 'unsealed'
      ? `unsealed: ${chain.events} events intact, no seal (cut short, or a proxy is still writing it)`
      : `FAILED verification at line ${chain.line}: ${chain.detail} [${chain.code}]`;
  const summary = {
    path,
    // A session whose server died before anything happened is a seal alone: it names the run.
    run_id: start?.run_id ?? sealed?.run_id ?? null,
    agent_id: start?.agent_id ?? sealed?.agent_id ?? null,
    started: start?.ts ?? null,
    ended: sealed?.ts ?? null,
    status: chain.ok ? 'sealed' : chain.code === 'unsealed' ? 'unsealed' : 'failed',
    detail: status,
    events: chain.events,
    verdicts,
    denials: denials.map((event) => ({
      step: event.step,
      verdict: event.decision.verdict,
      syscall: event.syscall.kind,
      target: event.syscall.target,
      rule: event.decision.rule,
    })),
  };
  const failed = !chain.ok && chain.code !== 'unsealed';
  if (asJson) io.stdout(json(summary));
  else io.stdout(`${showLines(summary).map(printable).join('\n')}\n`);
  return failed ? EXIT.failed : EXIT.ok;
}

function showLines(summary: {
  path: string;
  run_id: string | null;
  agent_id: string | null;
  started: string | null;
  ended: string | null;
  detail: string;
  events: number;
  verdicts: Record<string, number>;
  denials: readonly {
    step: number;
    verdict: string;
    syscall: string;
    target: string;
    rule: string;
  }[];
}): string[] {
  const shown = summary.denials.slice(0, SHOWN_DENIALS);
  const clip = (text: string) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);
  const word = shellWord(summary.path);
  return [
    `Run ${summary.run_id ?? '(no events)'}`,
    ...table([
      ['  path', summary.path],
      ['  agent', summary.agent_id ?? '-'],
      ['  started', summary.started ?? '-'],
      ['  ended', summary.ended ?? '- (no seal)'],
      ['  status', summary.detail],
      [
        '  events',
        `${summary.events} (${Object.entries(summary.verdicts)
          .map(([verdict, count]) => `${verdict} ${count}`)
          .join(', ')})`,
      ],
    ]),
    ...(shown.length > 0 ? ['  refused:'] : []),
    ...table(
      shown.map((denial) => [
        `    step ${denial.step}`,
        denial.verdict,
        denial.syscall,
        clip(denial.target),
        denial.rule,
      ]),
    ),
    ...(summary.denials.length > shown.length
      ? [`    … and ${summary.denials.length - shown.length} more`]
      : []),
    `Every event: agentk trace-inspect ${word}`,
    ...(shown.length > 0 ? [`Why one was refused: agentk why ${word} <step>`] : []),
  ];
}

/** The limits: flags over the environment over the defaults. */
function limitsOf(args: ParsedArgs, io: CliIo): RetentionLimits {
  // Pruning by hand is not turned off by AGENTK_RUNS_RETENTION=off: only the proxy's is.
  const base =
    retentionFromEnv({ ...io.env, AGENTK_RUNS_RETENTION: undefined }) ?? DEFAULT_RETENTION;
  const keep = stringOption(args, 'keep');
  const age = stringOption(args, 'max-age');
  const size = stringOption(args, 'max-size');
  return {
    keep: keep === undefined ? base.keep : parseLimit(keep, '--keep', true),
    maxAgeDays: age === undefined ? base.maxAgeDays : parseLimit(age, '--max-age', false),
    maxBytes: size === undefined ? base.maxBytes : parseLimit(size, '--max-size', false) * MB,
  };
}

function pruneJson(result: PruneResult, workspace: string | null) {
  return {
    workspace,
    runs_dir: result.dir,
    dry_run: result.dryRun,
    removed: result.removed,
    cleaned: result.cleaned,
    protected: result.protected,
    kept: result.kept,
    kept_bytes: result.keptBytes,
    freed_bytes: result.freedBytes,
    failed: result.failed,
  };
}

const REASONS = { age: 'too old', count: 'beyond the count', size: 'beyond the size' } as const;

function pruneLines(result: PruneResult, workspace: string | null): string[] {
  const verb = result.dryRun ? 'would remove' : 'removed';
  const runs = result.removed.length;
  return [
    `${workspace ?? result.dir}: ${verb} ${runs} run${runs === 1 ? '' : 's'} (${sizeText(result.freedBytes)}${result.dryRun ? ' to free' : ' freed'})` +
      `${result.cleaned.length > 0 ? ` and ${result.cleaned.length} stale link(s) or marker(s)` : ''}; kept ${result.kept} (${sizeText(result.keptBytes)})`,
    ...table(
      result.removed.map((run) => [
        `  ${verb}`,
        run.name,
        sizeText(run.bytes),
        REASONS[run.reason],
      ]),
    ),
    ...result.cleaned.map((name) => `  ${verb} ${name}`),
    ...result.protected.map(
      (run) =>
        `  kept ${run.name}: ${run.why === 'latest' ? 'a latest link points at it' : 'a proxy may be writing it'} (counted against no limit)`,
    ),
    ...result.failed.map((file) => `  could not remove ${file.name} (${file.code})`),
  ];
}

function prune(args: ParsedArgs, io: CliIo): ExitCode {
  const limits = limitsOf(args, io);
  const dryRun = flag(args, 'dry-run');
  const results = runsPlaces(args, io).map((place) => ({
    workspace: place.workspace,
    result: pruneRuns(place.runs, limits, { dryRun }),
  }));
  if (flag(args, 'json')) {
    io.stdout(json({ limits, results: results.map((r) => pruneJson(r.result, r.workspace)) }));
  } else {
    const lines = results.flatMap((r) => pruneLines(r.result, r.workspace));
    io.stdout(
      `${(lines.length > 0 ? lines : ['no runs in the state directory']).map(printable).join('\n')}\n`,
    );
  }
  return results.some((r) => r.result.failed.length > 0) ? EXIT.failed : EXIT.ok;
}
