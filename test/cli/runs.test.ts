// `agentk runs list|show|prune` and the retention the proxy applies at start (issue 15):
// real traces from real proxy sessions in a state directory, copies of them under older
// run ids with their times set by utimesSync, and the files checked on disk afterwards.

import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stateDirs } from '../../src/config/state.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { runCli } from '../helpers/cli.js';
import { BIN } from '../helpers/real.js';
import { INITIALIZE, proxySession, scratch } from '../helpers/runs.js';

const DAY = 86_400_000;

/** Set a file's times to `days` ago. */
function age(path: string, days: number): void {
  const when = new Date(Date.now() - days * DAY);
  utimesSync(path, when, when);
}

/** A workspace with one real run of `web`: its runs directory and that trace. */
function oneRun(): { ws: string; home: string; runs: string; trace: string } {
  const { ws, home } = scratch();
  expect(proxySession(ws, home).status).toBe(0);
  const runs = stateDirs({ AGENTK_HOME: home }, ws).runs;
  const trace = runFiles(runs)[0] as string;
  return { ws, home, runs, trace: join(runs, trace) };
}

const runFiles = (dir: string) =>
  readdirSync(dir).filter((name) => /^mcp-.*\d{6}Z-.*\.jsonl$/.test(name));

/** A copy of `trace` as the run `mcp-web-2025010<n>T000000Z-0000000<n>.jsonl`, `days` old. */
function copyAs(trace: string, runs: string, n: number, days: number, lines?: number): string {
  const name = `mcp-web-2025010${n}T000000Z-0000000${n}.jsonl`;
  const path = join(runs, name);
  if (lines === undefined) copyFileSync(trace, path);
  else {
    // The first `lines` events (checkpoint lines, which land where timing puts them, aside).
    const kept = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('{"checkpoint":'))
      .slice(0, lines);
    writeFileSync(path, `${kept.join('\n')}\n`);
  }
  age(path, days);
  return name;
}

async function runs(home: string, ...argv: string[]) {
  return runCli(['runs', ...argv], { AGENTK_HOME: home });
}

interface Listed {
  run_id: string;
  file: string;
  server_id: string | null;
  status: string;
  events: number | null;
  latest: boolean;
}

describe('agentk runs list', () => {
  it('lists the runs newest first: server, events, status, and which is latest', async () => {
    const { ws, home, runs: dir, trace } = oneRun();
    expect(proxySession(ws, home, { serverId: 'other' }).status).toBe(0);
    const other = join(dir, runFiles(dir).find((name) => name.startsWith('mcp-other-')) as string);
    age(trace, 2);
    age(other, 1);
    const older = copyAs(trace, dir, 1, 5);
    const cut = copyAs(trace, dir, 2, 3, 2); // two events, no seal, written days ago
    const listed = await runs(home, 'list', '--workspace', ws, '--json');
    expect(listed.code).toBe(0);
    const [place] = JSON.parse(listed.stdout).workspaces;
    expect(place.workspace).toBe(ws);
    const rows = place.runs as Listed[];
    expect(rows.map((row) => row.file)).toEqual([
      other.split('/').pop(),
      trace.split('/').pop(),
      cut,
      older,
    ]);
    const events = verifyLogFile(trace);
    expect(events.ok && events.events).toBe(5);
    expect(rows.map((row) => [row.server_id, row.status, row.events, row.latest])).toEqual([
      ['other', 'sealed', 5, true],
      ['web', 'sealed', 5, true],
      ['web', 'unsealed', 2, false],
      ['web', 'sealed', 5, false],
    ]);
    // Written to a minute ago and unsealed: a proxy may be writing it.
    age(join(dir, cut), 1 / 1440);
    const live = JSON.parse((await runs(home, 'list', '--workspace', ws, '--json')).stdout);
    expect(live.workspaces[0].runs.find((row: Listed) => row.file === cut).status).toBe('live');
    const text = await runs(home, 'list', '--workspace', ws);
    expect(text.stdout).toMatch(
      new RegExp(`${rows[0]?.run_id}\\s+other\\s.*5 events, sealed\\s+latest`),
    );
    const all = JSON.parse((await runs(home, 'list', '--all', '--json')).stdout);
    expect(all.workspaces.map((w: { workspace: string }) => w.workspace)).toEqual([ws]);
  }, 60_000);

  it("points at traces in the workspace's own .agentk/runs (the demo's), never as its runs", async () => {
    const { ws, home, trace } = oneRun();
    const before = await runs(home, 'list', '--workspace', ws);
    expect(before.stdout).not.toContain('.agentk/runs');
    const older = join(ws, '.agentk', 'runs');
    mkdirSync(older, { recursive: true });
    copyFileSync(trace, join(older, '20261101T120000Z-0badc0de.jsonl'));
    copyFileSync(trace, join(older, 'latest.jsonl'));
    const text = await runs(home, 'list', '--workspace', ws);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`also 1 trace in ${older} (the demo's`);
    const listed = JSON.parse((await runs(home, 'list', '--workspace', ws, '--json')).stdout);
    expect(listed.workspaces[0].runs).toHaveLength(1);
  }, 60_000);
});

describe('the latest link', () => {
  it('stays on the last run with something in it when a server dies before answering', () => {
    const { ws, home, runs: dir, trace } = oneRun();
    const latest = join(dir, 'mcp-web-latest.jsonl');
    expect(realpathSync(latest)).toBe(trace);
    const died = spawnSync(
      process.execPath,
      [
        BIN,
        'mcp-proxy-stdio',
        '--server-id',
        'web',
        '--',
        process.execPath,
        '-e',
        'process.exit(3)',
      ],
      {
        cwd: ws,
        env: { PATH: process.env.PATH ?? '', AGENTK_HOME: home },
        input: `${JSON.stringify(INITIALIZE)}\n`,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(died.status).toBe(1);
    // The failed start is kept as a run (sealed, empty), but latest still names the last one.
    expect(runFiles(dir)).toHaveLength(2);
    expect(realpathSync(latest)).toBe(trace);
  }, 60_000);
});

describe('agentk runs show', () => {
  it('verifies and summarises a run named by id, latest or path; refuses unknown ones', async () => {
    const { ws, home, runs: dir, trace } = oneRun();
    const runId = (trace.match(/(\d{8}T\d{6}Z-[0-9a-f]{8})/) as RegExpMatchArray)[1] as string;
    for (const ref of [runId, runId.slice(0, 18), 'latest', trace]) {
      const shown = await runs(home, 'show', ref, '--workspace', ws);
      expect(shown.code, ref).toBe(0);
      expect(shown.stdout).toContain(`Run ${runId}`);
      expect(shown.stdout).toMatch(/status\s+sealed and verified/);
      expect(shown.stdout).toMatch(/events\s+5 \(allow 4, deny 1, ask 0\)/);
      expect(shown.stdout).toMatch(
        /step 5\s+deny\s+tool\.invoke\s+web\/post_report\s+ask-untrusted-steered-action/,
      );
      expect(shown.stdout).toContain('agentk trace-inspect');
    }
    // From a directory with no runs, latest is another workspace's newest, and says so.
    const elsewhere = await runCli(['runs', 'show', 'latest'], { AGENTK_HOME: home }, tmpdir());
    expect(elsewhere.code).toBe(0);
    expect(elsewhere.stdout).toContain(`Run ${runId}`);
    expect(elsewhere.stderr).toBe(
      `agentk: no runs for ${realpathSync(tmpdir())}; latest is the newest run of any workspace: ${trace}\n`,
    );
    const unknown = await runs(home, 'show', '20990101', '--workspace', ws);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/^agentk runs: no run "20990101" in .*runs list/);
    // Two runs share the prefix: ambiguous, one line.
    copyAs(trace, dir, 1, 1);
    copyAs(trace, dir, 2, 1);
    const ambiguous = await runs(home, 'show', '2025010', '--workspace', ws);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/matches 2 runs/);
    // One changed byte: the summary says where verification failed, exit 1.
    const bytes = readFileSync(trace, 'utf8').replace('"step":2', '"step":3');
    writeFileSync(join(dir, 'tampered.jsonl'), bytes);
    const tampered = await runs(home, 'show', join(dir, 'tampered.jsonl'));
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/FAILED verification at line 2/);
  }, 60_000);
});

describe('agentk runs prune', () => {
  it('removes the oldest beyond each limit, never the latest target or a live run', async () => {
    const { ws, home, runs: dir, trace } = oneRun();
    const latest = trace.split('/').pop() as string;
    age(trace, 50); // the latest link's target: kept however old
    const copies = [1, 2, 3, 4, 5, 6].map((n) => copyAs(trace, dir, n, n));
    const writing = copyAs(trace, dir, 7, 1 / 1440, 3); // unsealed, written a minute ago
    const marked = copyAs(trace, dir, 8, 20, 3); // unsealed, old, but its proxy runs
    writeFileSync(join(dir, `${marked}.live`), `${process.pid}\n`);
    symlinkSync('mcp-gone-20250101T000000Z-00000000.jsonl', join(dir, 'mcp-gone-latest.jsonl'));
    const before = readdirSync(dir).sort();

    const dry = await runs(home, 'prune', '--workspace', ws, '--keep', '3', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.stdout).results[0];
    // The latest target and the live runs are kept and spend none of the three.
    expect(planned.removed.map((run: { name: string }) => run.name)).toEqual(copies.slice(3));
    expect(planned.cleaned).toEqual(['mcp-gone-latest.jsonl']);
    expect(readdirSync(dir).sort()).toEqual(before);

    const pruned = await runs(home, 'prune', '--workspace', ws, '--keep', '3');
    expect(pruned.code).toBe(0);
    const freed = (statSync(trace).size * 3) / 1024;
    expect(pruned.stdout).toContain(`removed 3 runs (${freed.toFixed(1)} KB freed)`);
    expect(pruned.stdout).toContain(`kept ${latest}: a latest link points at it`);
    expect(pruned.stdout).toContain(`kept ${marked}: a proxy may be writing it`);
    // Also the one within the limits: `kept N` counts it, so the line says why.
    expect(pruned.stdout).toContain(`kept ${writing}: a proxy may be writing it`);
    expect(runFiles(dir).sort()).toEqual(
      [copies[0], copies[1], copies[2], latest, writing, marked].sort(),
    );
    expect(existsSync(join(dir, 'mcp-gone-latest.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'mcp-web-latest.jsonl'))).toBe(true);

    await runs(home, 'prune', '--workspace', ws, '--max-age', '1.5');
    expect(runFiles(dir).sort()).toEqual([copies[0], latest, writing, marked].sort());
    // Runs that are never removed spend none of the size budget: one more run still fits.
    const room = ((statSync(trace).size * 1.5) / (1024 * 1024)).toFixed(6);
    await runs(home, 'prune', '--workspace', ws, '--max-size', room);
    expect(runFiles(dir).sort()).toEqual([copies[0], latest, writing, marked].sort());
    await runs(home, 'prune', '--workspace', ws, '--max-size', '0.001');
    expect(runFiles(dir).sort()).toEqual([latest, writing, marked].sort());
  }, 60_000);

  it('is what the proxy does at start, with the limits the environment sets', () => {
    const { ws, home, runs: dir, trace } = oneRun();
    const copies = [1, 2, 3, 4].map((n) => copyAs(trace, dir, n, n));
    expect(proxySession(ws, home, { env: { AGENTK_RUNS_KEEP: '3' } }).status).toBe(0);
    // The new run (the latest, outside the count), the one before it and the two newest
    // copies; no marker is left.
    const first = basename(trace);
    const started = runFiles(dir).filter((name) => name !== first && !copies.includes(name));
    expect(started).toHaveLength(1);
    expect(runFiles(dir).sort()).toEqual([first, copies[0], copies[1], started[0]].sort());
    expect(readdirSync(dir).filter((name) => name.endsWith('.live'))).toEqual([]);

    const off = proxySession(ws, home, {
      env: { AGENTK_RUNS_KEEP: '1', AGENTK_RUNS_RETENTION: 'off' },
    });
    expect(off.status).toBe(0);
    expect(runFiles(dir)).toHaveLength(5);

    // A bad limit is one warning line; the session runs and is sealed.
    const bad = proxySession(ws, home, { env: { AGENTK_RUNS_KEEP: 'lots' }, args: ['--quiet'] });
    expect(bad.status).toBe(0);
    const warnings = bad.stderr.split('\n').filter((line) => line.includes('not pruned'));
    expect(warnings).toEqual([
      'agentk web: old traces not pruned: AGENTK_RUNS_KEEP must be a whole number of 0 or more',
    ]);
    expect(runFiles(dir)).toHaveLength(6);
    expect(bad.stdout).toContain('AgentK denied');

    // A directory the user named is theirs: never pruned.
    const mine = join(ws, '..', 'mine');
    expect(proxySession(ws, home, { args: ['--trace-dir', mine] }).status).toBe(0);
    const kept = [1, 2, 3].map((n) => copyAs(join(mine, runFiles(mine)[0] as string), mine, n, 90));
    expect(
      proxySession(ws, home, { args: ['--trace-dir', mine], env: { AGENTK_RUNS_KEEP: '1' } })
        .status,
    ).toBe(0);
    for (const name of kept) expect(existsSync(join(mine, name))).toBe(true);
  }, 90_000);

  it('refuses bad limits and actions in one line, exit 2', async () => {
    const { home } = scratch();
    for (const argv of [
      ['prune', '--keep', 'x'],
      ['prune', '--keep=-1'],
      ['prune', '--max-age', '1e3'],
      ['prune', '--max-size', ''],
      ['list', '--all', '--workspace', '.'],
      ['frob'],
      ['show'],
      ['list', 'extra'],
    ]) {
      const ran = await runs(home, ...argv);
      expect(ran.code, argv.join(' ')).toBe(2);
      expect(ran.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
      expect(ran.stderr).toMatch(/^agentk runs: /);
    }
  });
});
