// Provenance matching as context grows: the latency of one tool.invoke syscall (with a
// URL, a path and a sentence as arguments) after 10 KB, 100 KB, 1 MB and 10 MB of pages
// have entered context. The kernel signs and records in both cases, so the difference is
// what matching against a larger index costs. Prints JSON.
import { join } from 'node:path';
import { developmentSigner, Kernel, loadPolicyFile, MemorySink } from '../dist/index.js';
import { ROOT, summary } from './lib.mjs';

const quick = process.env.BENCH_QUICK === '1';
const policy = loadPolicyFile(join(ROOT, 'examples', 'agentk.policy.toml'));
const words =
  'the of agent kernel policy label value page tool server request answer proxy trace seal'.split(
    ' ',
  );
let seed = 7;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
};
function page(bytes, n) {
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const r = rand() % 40;
    const part =
      r === 0
        ? `https://site${n}-${rand() % 100000}.example/p/${rand()}`
        : r === 1
          ? `/home/user/project${n}/file${rand() % 1000}.ts`
          : words[rand() % words.length];
    parts.push(part);
    size += part.length + 1;
  }
  return parts.join(' ');
}

const sizes = quick ? [10e3, 1e6] : [10e3, 100e3, 1e6, 10e6];
const points = [];
for (const size of sizes) {
  const kernel = new Kernel({
    policy,
    signer: developmentSigner(),
    trace: { sink: new MemorySink() },
  });
  const pageBytes = 50_000;
  for (let filled = 0, n = 0; filled < size; filled += Math.min(pageBytes, size), n++) {
    kernel.syscall({
      kind: 'context.read',
      target: `https://docs.example/${n}`,
      content: page(Math.min(pageBytes, size), n),
    });
  }
  const samples = [];
  const calls = quick ? 300 : 2000;
  for (let i = 0; i < calls + 200; i++) {
    const start = process.hrtime.bigint();
    kernel.syscall({
      kind: 'tool.invoke',
      target: 'fs/read_file',
      args: {
        path: `src/module${i}.ts`,
        url: `https://api.example/v1/items/${i}`,
        note: `summarise the changes to module ${i} and list the open questions`,
      },
    });
    if (i >= 200) samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const { median, p99 } = summary(samples);
  const label = size >= 1e6 ? `${size / 1e6} MB` : `${size / 1e3} KB`;
  points.push({ label, bytes: size, median, p99 });
}
console.log(JSON.stringify({ points, addedAtLargestMs: points.at(-1).median - points[0].median }));
