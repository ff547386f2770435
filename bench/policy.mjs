// Policy evaluation: decisions per second of each shipped profile, compiled, over a mix
// of decision inputs like the kernel produces. Prints JSON.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CompiledPolicy, loadPolicyFile } from '../dist/index.js';
import { ROOT } from './lib.mjs';

const quick = process.env.BENCH_QUICK === '1';
const files = [
  join(ROOT, 'examples', 'agentk.policy.toml'),
  ...readdirSync(join(ROOT, 'examples', 'policies'))
    .filter((f) => f.endsWith('.toml'))
    .map((f) => join(ROOT, 'examples', 'policies', f)),
];
// Bits as in src/labels and src/vocabulary: a spread of label, control and sink states.
const kinds = [
  'tool.invoke',
  'tool.response',
  'context.read',
  'network.send',
  'file.patch',
  'secret.open',
];
const inputs = [];
for (let i = 0; i < 64; i++) {
  inputs.push({
    kind: kinds[i % kinds.length],
    target: [
      'fs/read_file',
      'mail/send_email',
      'shell/run_command',
      'https://example.com/x',
      'src/app.ts',
      'secret://db',
    ][i % 6],
    labels: (i * 7) % 64,
    control: (i * 3) % 16,
    sinks: 1 << (i % 5),
    capability: i % 5 !== 0,
  });
}
const out = {};
const n = quick ? 200_000 : 2_000_000;
for (const file of files) {
  const policy = new CompiledPolicy(loadPolicyFile(file));
  for (let i = 0; i < 100_000; i++) policy.decide(inputs[i & 63]); // warm up
  const start = performance.now();
  let sink = 0;
  for (let i = 0; i < n; i++) sink += policy.decide(inputs[i & 63]).index;
  const seconds = (performance.now() - start) / 1000;
  if (sink < 0) console.error(sink);
  out[file.slice(ROOT.length)] = n / seconds;
}
console.log(JSON.stringify(out));
