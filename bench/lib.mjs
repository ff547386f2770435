// Shared pieces of the benchmarks: statistics, and MCP sessions over child processes.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LineClient } from '../dist/mcp/client.js';

export const ROOT = new URL('..', import.meta.url).pathname;
// BENCH_ANSWER_BYTES=N: the server answers each call with about N bytes of text.
export const TRIVIAL_SERVER = [
  process.execPath,
  join(ROOT, 'bench', 'trivial-server.mjs'),
  ...(process.env.BENCH_ANSWER_BYTES ? [process.env.BENCH_ANSWER_BYTES] : []),
];

export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[at];
}

export function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, median: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

/**
 * Time sequential calls to each session (anything with `call(n)`), interleaved in blocks of
 * `calls` per session and round so that drift on a shared machine hits every session
 * alike, after `warmup` calls each. Each call gets its own number (the trivial server's
 * answer to it differs). Returns each session's round trips, in ms.
 */
export async function interleavedCalls(sessions, { warmup, rounds, calls }) {
  const names = Object.keys(sessions);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) for (let i = 0; i < warmup; i++) await sessions[name].call(i);
  let n = warmup;
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      for (let i = 0; i < calls; i++) {
        const start = performance.now();
        await sessions[name].call(n++);
        samples[name].push(performance.now() - start);
      }
    }
  }
  return samples;
}

/** Start a command speaking MCP on stdio, initialize it, and list its tools. */
export async function session(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'], ...options });
  const client = new LineClient(child.stdout, child.stdin, false);
  await client.initialize('bench');
  await client.request('tools/list', {});
  return {
    child,
    client,
    // An answer that is not a result (a denial, an error of the proxy) stops the bench:
    // a fast error would otherwise pass for a fast call.
    call: (n) =>
      client.request('tools/call', { name: 'lookup', arguments: { n } }).then((answer) => {
        if (answer.result === undefined) throw new Error(`not a result: ${JSON.stringify(answer)}`);
        return answer;
      }),
    async close() {
      client.end();
      await new Promise((resolve) => {
        if (child.exitCode !== null) resolve();
        else child.once('exit', resolve);
      });
    },
  };
}

/**
 * A typical event, as the kernel records it (an allowed tool.invoke with its signed
 * receipt), without its chain fields: appended many times by the recorder benchmarks.
 */
export async function typicalEvent() {
  const { Kernel, MemorySink, developmentSigner, loadPolicyFile } = await import(
    '../dist/index.js'
  );
  const sink = new MemorySink();
  const kernel = new Kernel({
    policy: loadPolicyFile(join(ROOT, 'examples', 'agentk.policy.toml')),
    signer: developmentSigner(),
    trace: { sink },
  });
  kernel.syscall({ kind: 'tool.invoke', target: 'bench/lookup', args: { word: 'kernel' } });
  const { step, previous_hash, event_hash, v, ...fields } = JSON.parse(sink.lines[0]);
  return fields;
}

/**
 * The i-th of many events like `template` (typicalEvent()), each with its own time, built
 * as the kernel builds its events (syscallEntry: one literal, the same members in the same
 * order every time). A copy by spreading (`{ ...template, ts }`) gives V8 a fresh hidden
 * class per event and cost the recorder benchmarks more than the recorder itself.
 */
export const eventBuilder = (template) => (i) => ({
  type: template.type,
  ts: new Date(1_800_000_000_000 + i).toISOString(),
  run_id: template.run_id,
  agent_id: template.agent_id,
  syscall: template.syscall,
  decision: template.decision,
});
