// CPU time per call of each proxy process: its utime + stime from /proc/PID/stat over N
// calls with 32 in flight (after a warm-up), in interleaved rounds, median of the rounds.
// Throughput on a busy machine measures the machine; CPU per call measures the proxy.
//
//   node bench/cpu-per-call.mjs [calls=20000] [rounds=3] [agentk checkouts, comma-separated] [in flight=32]
//
// With 1 in flight (sequential calls, as the round-trip bench makes them) nothing is
// batched: every message is its own read, trace write and forward.
//
// Each checkout named (default: this one) runs its own bin/agentk.js, so two builds can be
// compared side by side (`git worktree add /tmp/base <rev> && (cd /tmp/base && npm run build)`).
// Linux only (/proc).
//
// BENCH_PIN=1 pins each proxy to CPU 1 and this process and the server to CPU 0
// (`taskset`, util-linux): the proxy then has a core of its own, and its CPU per call
// varies far less between rounds than when the three processes share both cores.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TRIVIAL_SERVER as SERVER, session } from './lib.mjs';

const calls = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 3);
const checkouts = (process.argv[4] || ROOT).split(',').map((dir) => dir.replace(/\/$/, ''));
const inFlight = Number(process.argv[5] ?? 32);
const PIN = process.env.BENCH_PIN === '1';
const TRIVIAL_SERVER = PIN ? ['taskset', '-c', '0', ...SERVER] : SERVER;
if (PIN) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
const TICK_MS = 10; // USER_HZ is 100 on Linux

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime
}

const script = (name) => join(ROOT, 'bench', name);
const peers = {
  passthrough: () => [script('passthrough.mjs'), ...TRIVIAL_SERVER],
  floor: (work) => [script('floor-proxy.mjs'), join(work, 'floor.jsonl'), '--', ...TRIVIAL_SERVER],
  sdk: () => [script('sdk-proxy.mjs'), ...TRIVIAL_SERVER],
};
for (const dir of checkouts) {
  peers[checkouts.length === 1 ? 'agentk' : `agentk ${dir}`] = (work) => [
    join(dir, 'bin', 'agentk.js'),
    'mcp-proxy-stdio',
    '--server-id',
    'bench',
    '--quiet',
    '--trace-out',
    join(work, 'trace.jsonl'),
    '--pins-dir',
    join(work, 'pins'),
    '--approvals-dir',
    join(work, 'approvals'),
    '--',
    ...TRIVIAL_SERVER,
  ];
}

async function run(s, count, latencies) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const start = performance.now();
      await s.call(next++);
      latencies?.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

const perCall = Object.fromEntries(Object.keys(peers).map((name) => [name, []]));
const rate = Object.fromEntries(Object.keys(peers).map((name) => [name, []]));
const latency = Object.fromEntries(Object.keys(peers).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, args] of Object.entries(peers)) {
    const work = mkdtempSync(join(tmpdir(), 'agentk-cpu-'));
    const s = PIN
      ? await session('taskset', ['-c', '1', process.execPath, ...args(work)])
      : await session(process.execPath, args(work));
    await run(s, Math.min(4000, calls));
    const before = cpuTicks(s.child.pid);
    const start = performance.now();
    await run(s, calls, latency[name]);
    const wall = performance.now() - start;
    const cpuMs = (cpuTicks(s.child.pid) - before) * TICK_MS;
    perCall[name].push((cpuMs * 1000) / calls);
    rate[name].push((calls / wall) * 1000);
    await s.close();
    rmSync(work, { recursive: true, force: true });
  }
}
// Sequential calls: each call's round trip, all rounds pooled (median / p99).
const roundTrip = (samples) => {
  if (inFlight !== 1) return '';
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) =>
    (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 1000).toFixed(0);
  return `  round trip ${at(0.5)} / ${at(0.99)} µs`;
};
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
for (const name of Object.keys(peers)) {
  const each = perCall[name].map((v) => v.toFixed(0)).join(' / ');
  console.log(
    `${name.padEnd(24)} ${median(perCall[name]).toFixed(1).padStart(7)} µs CPU per call (${each})  ${median(rate[name]).toFixed(0)} calls/s${roundTrip(latency[name])}`,
  );
}
