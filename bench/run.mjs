// `npm run bench`: AgentK's costs measured side by side with their floors on this machine,
// as ratios. Prints a table and writes bench/results.json. Sections: proxy round trip and
// throughput under concurrency (each beside its peers: direct, a byte-copying pipe, a
// minimal write-before-forward proxy, the official SDK's proxy), answers that carry 4 KB
// of text beside the pipe and the SDK's proxy, recorder append rate,
// verification, policy evaluation, provenance matching as context grows, memory of a long
// session, a large catalogue, the viewer on a 100k-event trace (BENCH_ONLY=view).
// docs/performance.md explains each row. BENCH_QUICK=1 runs smaller sizes (for a smoke
// test, not for numbers).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerRoundTrip } from './answers.mjs';
import { httpRoundTrip } from './http.mjs';
import { interleavedCalls, ROOT, session, summary, TRIVIAL_SERVER } from './lib.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const BIN = join(ROOT, 'bin', 'agentk.js');
const work = mkdtempSync(join(tmpdir(), 'agentk-bench-'));
const results = { machine: machine(), quick: QUICK, sections: {} };
const rows = [];
let traceCounter = 0;

function machine() {
  const cpu = cpus();
  return {
    node: process.version,
    cpu: `${cpu.length} x ${cpu[0]?.model ?? 'unknown'}`,
    date: new Date().toISOString(),
  };
}

function row(section, metric, value, floor, target, met) {
  rows.push([
    section,
    metric,
    value,
    floor,
    target,
    met === undefined ? '' : met ? 'met' : 'MISSED',
  ]);
}

const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

function agentkArgs(extra = [], server = TRIVIAL_SERVER) {
  return [
    BIN,
    'mcp-proxy-stdio',
    '--server-id',
    'bench',
    '--trace-out',
    join(work, `trace-${++traceCounter}.jsonl`),
    '--pins-dir',
    join(work, 'pins'),
    '--approvals-dir',
    join(work, 'approvals'),
    ...extra,
    '--',
    ...server,
  ];
}

// The peers of the round-trip and throughput sections, each a session to the trivial
// server: the client straight to it, a byte-copying pipe, the least a recording proxy can
// do (bench/floor-proxy.mjs), the do-nothing proxy of the official SDK
// (bench/sdk-proxy.mjs), and AgentK. Every ratio is against the passthrough.
const PEERS = {
  direct: 'direct',
  passthrough: 'passthrough',
  floor: 'write-before-forward floor',
  sdk: 'MCP SDK proxy',
  agentk: 'agentk',
};

async function setups() {
  const node = process.execPath;
  const script = (name) => join(ROOT, 'bench', name);
  const floorTrace = join(work, `floor-trace-${++traceCounter}.jsonl`);
  return {
    direct: await session(TRIVIAL_SERVER[0], TRIVIAL_SERVER.slice(1)),
    passthrough: await session(node, [script('passthrough.mjs'), ...TRIVIAL_SERVER]),
    floor: await session(node, [script('floor-proxy.mjs'), floorTrace, '--', ...TRIVIAL_SERVER]),
    sdk: await session(node, [script('sdk-proxy.mjs'), ...TRIVIAL_SERVER]),
    agentk: await session(node, agentkArgs()),
  };
}

const peerRatios = (values, of) =>
  Object.fromEntries(Object.keys(values).map((n) => [n, of(values[n]) / of(values.passthrough)]));

// 1. Round trip, interleaved in blocks so that drift on a shared machine hits all peers.
async function roundTrip() {
  const s = await setups();
  const names = Object.keys(s);
  const samples = await interleavedCalls(s, {
    warmup: 300,
    rounds: QUICK ? 4 : 40,
    calls: QUICK ? 50 : 250,
  });
  for (const name of names) await s[name].close();
  const stats = Object.fromEntries(names.map((n) => [n, summary(samples[n])]));
  const median = peerRatios(stats, (s) => s.median);
  const p99 = peerRatios(stats, (s) => s.p99);
  const ratios = Object.fromEntries(names.map((n) => [n, { median: median[n], p99: p99[n] }]));
  results.sections.roundTrip = {
    stats,
    ratios,
    ratioMedian: median.agentk,
    ratioP99: p99.agentk,
  };
  for (const name of names) {
    const { median: m, p99: p } = stats[name];
    row('round trip', `${PEERS[name]} median / p99`, `${us(m)} / ${us(p)}`, '', '', undefined);
  }
  for (const name of names.filter((n) => n !== 'passthrough' && n !== 'agentk')) {
    row(
      'round trip',
      `${PEERS[name]} / passthrough, median / p99`,
      `${fmt(median[name])}x / ${fmt(p99[name])}x`,
      '1x',
      '',
      undefined,
    );
  }
  row(
    'round trip',
    'agentk / passthrough, median',
    `${fmt(median.agentk)}x`,
    '1x',
    '<= 1.5x',
    median.agentk <= 1.5,
  );
  row(
    'round trip',
    'agentk / passthrough, p99',
    `${fmt(p99.agentk)}x`,
    '1x',
    '<= 2x',
    p99.agentk <= 2,
  );
}

// 2. Throughput with 32 requests in flight, interleaved in rounds like the round trip.
async function throughput() {
  const s = await setups();
  const names = Object.keys(s);
  const rounds = QUICK ? 1 : 4;
  const perRound = (QUICK ? 2000 : 20_000) / rounds;
  const run = async (name) => {
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < perRound) await s[name].call(next++);
      }),
    );
    return (performance.now() - start) / 1000;
  };
  const seconds = Object.fromEntries(names.map((n) => [n, 0]));
  for (const name of names) await run(name); // warm up
  for (let round = 0; round < rounds; round++) {
    for (const name of names) seconds[name] += await run(name);
  }
  for (const name of names) await s[name].close();
  const rate = Object.fromEntries(names.map((n) => [n, (perRound * rounds) / seconds[n]]));
  const ratios = peerRatios(rate, (r) => r);
  results.sections.throughput = { callsPerSecond: rate, ratios, ratio: ratios.agentk };
  for (const [name, value] of Object.entries(rate)) {
    row('throughput, 32 in flight', `${PEERS[name]} calls/s`, value.toFixed(0), '', '', undefined);
  }
  for (const name of names.filter((n) => n !== 'passthrough' && n !== 'agentk')) {
    row(
      'throughput, 32 in flight',
      `${PEERS[name]} / passthrough`,
      `${fmt(ratios[name])}x`,
      '1x',
      '',
      undefined,
    );
  }
  row(
    'throughput, 32 in flight',
    'agentk / passthrough',
    `${fmt(ratios.agentk)}x`,
    '1x',
    '>= 0.7x',
    ratios.agentk >= 0.7,
  );
}

// 3-6 run in a child process against dist/, so that their numbers are not disturbed by
// the sessions above (and peak memory is the child's own).
function inChild(script, args = []) {
  const out = execFileSync(process.execPath, [join(ROOT, 'bench', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, BENCH_WORK: work },
  });
  return JSON.parse(out);
}

function recorder() {
  const r = inChild('recorder.mjs');
  results.sections.recorder = r;
  row(
    'recorder append',
    'events/s (flush: one write per event)',
    r.flush.toFixed(0),
    `${r.writeFloor.toFixed(0)} bare writes/s (${(r.flush / r.writeFloor).toFixed(2)}x)`,
    '>= 150k/s',
    r.flush >= 150_000,
  );
  row(
    'recorder append',
    'events per CPU second (flush; user + system time of the process)',
    r.flushCpu.toFixed(0),
    '',
    '',
    undefined,
  );
  row(
    'recorder append',
    'events/s (fsync every event)',
    r.fsyncEach.toFixed(0),
    `${r.fsyncFloor.toFixed(0)} bare fsyncs/s`,
    '',
    undefined,
  );
  row(
    'recorder append',
    'events/s (fsync, group commit of 32)',
    r.fsyncGroup.toFixed(0),
    '',
    '',
    undefined,
  );
  row(
    'recorder append',
    'events/s (flush, batches of 32: one write each)',
    r.flushBatch.toFixed(0),
    '',
    '',
    undefined,
  );
  row(
    'recorder append',
    'events/s (fsync, batches of 32: one write and fsync each)',
    r.fsyncBatch.toFixed(0),
    '',
    '',
    undefined,
  );
}

function verification() {
  const v = inChild('verify.mjs');
  results.sections.verify = v;
  row(
    'verify',
    `agentk verify, ${v.events} events`,
    `${v.eventsPerSecond.toFixed(0)} events/s, ${v.mbPerSecond.toFixed(0)} MB/s`,
    `SHA-256 ${v.shaMbPerSecond.toFixed(0)} MB/s`,
    '',
    undefined,
  );
  row(
    'verify',
    'peak memory of verify',
    `${v.peakMiB.toFixed(0)} MiB`,
    '',
    '< 150 MiB',
    v.peakMiB < 150,
  );
  row(
    'verify',
    'verify-signatures, signatures checked/s (a handle each event)',
    v.signaturesPerSecond.toFixed(0),
    `Ed25519 ${v.ed25519PerSecond.toFixed(0)} verifies/s`,
    '>= 0.8x',
    v.signaturesPerSecond / v.ed25519PerSecond >= 0.8,
  );
}

function policy() {
  const p = inChild('policy.mjs');
  results.sections.policy = p;
  for (const [name, rate] of Object.entries(p)) {
    row('policy decisions', name, `${(rate / 1e6).toFixed(2)}M/s`, '', '>= 1M/s', rate >= 1e6);
  }
}

function provenance() {
  const p = inChild('provenance.mjs');
  results.sections.provenance = p;
  for (const point of p.points) {
    row(
      'provenance',
      `tool.invoke with ${point.label} of context`,
      `${us(point.median)} median`,
      '',
      '',
      undefined,
    );
  }
  const added = p.addedAtLargestMs;
  row(
    'provenance',
    `added latency at ${p.points.at(-1).label} vs ${p.points[0].label}`,
    us(added),
    '',
    '< 50 µs',
    added < 0.05,
  );
}

function longSession() {
  const total = QUICK ? 10_000 : 100_000;
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', join(ROOT, 'bench', 'long-session.mjs'), String(total)],
    { encoding: 'utf8', env: { ...process.env, BENCH_WORK: work } },
  );
  const { samples } = JSON.parse(out);
  const at = (fraction) => samples.find((s) => s.calls === total * fraction) ?? samples[0];
  const half = at(0.5);
  const late = at(0.7);
  const last = samples.at(-1);
  results.sections.longSession = { calls: total, samples };
  // The kernel's tables fill up to their caps (the largest, 65,536 live receipts, at about
  // 65,000 calls) and then stay there: flat means no growth over the last 30% of the run.
  const flat = last.heapMiB <= late.heapMiB * 1.1 + 2;
  row(
    'long session',
    `heap after GC at ${total / 2} / ${total * 0.7} / ${total} calls`,
    `${half.heapMiB.toFixed(0)} / ${late.heapMiB.toFixed(0)} / ${last.heapMiB.toFixed(0)} MiB`,
    '',
    'flat',
    flat,
  );
  row(
    'long session',
    `RSS at ${total / 2} / ${total} calls`,
    `${half.rssMiB.toFixed(0)} / ${last.rssMiB.toFixed(0)} MiB`,
    '',
    '',
    undefined,
  );
}

// 9. The viewer on a 100k-event trace: `agentk view --out`, and the page in Chromium.
function viewer() {
  const v = inChild('view.mjs');
  results.sections.view = v;
  const c = v.chromium;
  const at = (n) => n.toFixed(0);
  row(
    'viewer',
    `agentk view --out, ${v.events / 1000}k events (${at(v.traceMB)} MB log)`,
    `${v.viewSeconds.toFixed(1)} s (${v.viewCpuSeconds.toFixed(1)} s CPU), ${at(v.viewPeakMiB)} MiB peak`,
    '',
    'a few s',
    undefined,
  );
  row('viewer', 'page written', `${v.htmlMB.toFixed(1)} MB`, '', '', undefined);
  row(
    'viewer',
    'page served (details fetched)',
    `${v.served.pageMB.toFixed(1)} MB`,
    '',
    '',
    undefined,
  );
  if (c === null) return row('viewer', 'page in Chromium', 'no /usr/bin/chromium', '', '');
  row(
    'viewer',
    `page open to first rows, median of ${c.opens} (renderer busy)`,
    `${at(c.openMs)} ms (${at(c.openTaskMs)} ms)`,
    '',
    '< 2 s',
    c.openMs < 2000,
  );
  row(
    'viewer',
    'scroll top to end, frame median / p95 / max',
    `${at(c.frameMedianMs)} / ${at(c.frameP95Ms)} / ${at(c.frameMaxMs)} ms`,
    '16.7 ms',
    '',
  );
  row('viewer', 'page JS heap after GC', `${at(c.heapMiB)} MiB`, '', '', undefined);
}

// 8. A large catalogue: tools/list of many tools, a describe syscall each (the session's
// first listing pins them; the timed second one checks every pin), and a ping sent right
// behind it: how long the proxy is busy with it.
// The HTTP path: the same SDK client straight to a Streamable HTTP server, and through
// `agentk mcp-proxy-stdio --url` in front of it (bench/http.mjs).
async function http() {
  const stats = await httpRoundTrip({
    bin: BIN,
    work,
    warmup: QUICK ? 50 : 300,
    rounds: QUICK ? 4 : 20,
    calls: QUICK ? 50 : 250,
  });
  const ratio = {
    median: stats.agentk.median / stats.direct.median,
    p99: stats.agentk.p99 / stats.direct.p99,
  };
  results.sections.http = { stats, ratio };
  for (const name of ['direct', 'agentk']) {
    const { median, p99 } = stats[name];
    const label = name === 'direct' ? 'direct to the HTTP server' : 'through agentk --url';
    row('http', `${label}, median / p99`, `${us(median)} / ${us(p99)}`, '', '', undefined);
  }
  row(
    'http',
    'agentk --url / direct, median / p99',
    `${fmt(ratio.median)}x / ${fmt(ratio.p99)}x`,
    '1x',
    '',
    undefined,
  );
}

// Answers that carry text (4 KB of prose each), sequential: what reading them costs.
async function answers() {
  const bytes = 4096;
  const stats = await answerRoundTrip({
    agentkArgs: (server) => agentkArgs([], server),
    bytes,
    warmup: QUICK ? 20 : 200,
    rounds: QUICK ? 2 : 10,
    calls: QUICK ? 20 : 100,
  });
  const ratio = stats.agentk.median / stats.sdk.median;
  results.sections.answers = { bytes, stats, ratio };
  const label = { passthrough: 'passthrough', sdk: 'MCP SDK proxy', agentk: 'agentk' };
  for (const [name, { median, p99 }] of Object.entries(stats)) {
    row('answers of 4 KB', `${label[name]} median / p99`, `${us(median)} / ${us(p99)}`, '', '');
  }
  row('answers of 4 KB', 'agentk / MCP SDK proxy, median', `${fmt(ratio)}x`, '1x', '');
}

async function catalogue() {
  const count = QUICK ? 1000 : 10_000;
  const env = { ...process.env, BENCH_TOOLS: String(count) };
  const timed = async (command, args) => {
    const s = await session(command, args, { env });
    const start = performance.now();
    const listed = s.client.request('tools/list', {});
    const ping = s.client.request('ping', {}).then(() => performance.now() - start);
    await listed;
    const listMs = performance.now() - start;
    const pingMs = await ping;
    await s.close();
    return { listMs, pingMs };
  };
  const passthrough = await timed(process.execPath, [
    join(ROOT, 'bench', 'passthrough.mjs'),
    ...TRIVIAL_SERVER,
  ]);
  const agentk = await timed(process.execPath, agentkArgs(['--allow-env', 'BENCH_TOOLS']));
  results.sections.catalogue = { tools: count, passthrough, agentk };
  const perTool = (agentk.listMs - passthrough.listMs) / count;
  row(
    'catalogue',
    `tools/list of ${count} pinned tools, passthrough / agentk`,
    `${passthrough.listMs.toFixed(0)} / ${agentk.listMs.toFixed(0)} ms`,
    '',
    '',
    undefined,
  );
  row('catalogue', 'added per tool (linear)', us(perTool), '', '< 200 µs', perTool < 0.2);
  row(
    'catalogue',
    'a ping sent behind the listing waits',
    `${agentk.pingMs.toFixed(0)} ms`,
    `${passthrough.pingMs.toFixed(0)} ms`,
    '',
    undefined,
  );
}

try {
  const sections = (
    process.env.BENCH_ONLY ??
    'roundtrip,throughput,http,answers,recorder,verify,policy,provenance,memory,catalogue,view'
  ).split(',');
  if (sections.includes('roundtrip')) await roundTrip();
  if (sections.includes('throughput')) await throughput();
  if (sections.includes('http')) await http();
  if (sections.includes('answers')) await answers();
  if (sections.includes('recorder')) recorder();
  if (sections.includes('verify')) verification();
  if (sections.includes('policy')) policy();
  if (sections.includes('provenance')) provenance();
  if (sections.includes('memory')) longSession();
  if (sections.includes('catalogue')) await catalogue();
  if (sections.includes('view')) viewer();
} finally {
  rmSync(work, { recursive: true, force: true });
}

const header = ['section', 'metric', 'value', 'floor', 'target', ''];
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => String(r[i]).length)));
for (const r of [header, ...rows]) {
  console.log(
    r
      .map((cell, i) => String(cell).padEnd(widths[i] + 2))
      .join('')
      .trimEnd(),
  );
}
results.rows = rows.map(([section, metric, value, floor, target, met]) => ({
  section,
  metric,
  value,
  floor,
  target,
  met,
}));
if (!QUICK && !process.env.BENCH_ONLY) {
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwritten: bench/results.json');
}
