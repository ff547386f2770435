// Memory of a long session: the stdio proxy (in this process, so that its heap can be
// measured after a forced GC) in front of the trivial server, 32 calls in flight. Prints
// JSON: heap and RSS every tenth of the run. Run with --expose-gc.
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { developmentSigner, Kernel, loadPolicyFile } from '../dist/index.js';
import { LineClient } from '../dist/mcp/client.js';
import { StdioProxy } from '../dist/mcp/proxy/stdio.js';
import { ROOT, TRIVIAL_SERVER } from './lib.mjs';

const total = Number(process.argv[2] ?? 100_000);
const kernel = new Kernel({
  policy: loadPolicyFile(join(ROOT, 'examples', 'agentk.policy.toml')),
  signer: developmentSigner(),
  trace: { path: join(process.env.BENCH_WORK, `long-session-${Date.now()}.jsonl`) },
});
const input = new PassThrough();
const output = new PassThrough();
const proxy = new StdioProxy({
  kernel,
  serverId: 'bench',
  command: TRIVIAL_SERVER[0],
  args: TRIVIAL_SERVER.slice(1),
  env: { PATH: process.env.PATH ?? '' },
  input,
  output,
});
await proxy.start();
const client = new LineClient(output, input, false);
await client.initialize('bench');
await client.request('tools/list', {});
const samples = [];
const sample = (calls) => {
  globalThis.gc();
  const m = process.memoryUsage();
  samples.push({ calls, heapMiB: m.heapUsed / 1048576, rssMiB: m.rss / 1048576 });
};
let next = 0;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (next < total) {
      const n = next++;
      if (n > 0 && n % (total / 10) === 0) sample(n);
      await client.request('tools/call', { name: 'lookup', arguments: { n } });
    }
  }),
);
sample(total);
client.end();
await proxy.done;
console.log(JSON.stringify({ calls: total, samples }));
