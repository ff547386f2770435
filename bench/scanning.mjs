// Content scanning per call: the CPU the kernel spends reading a typical tool answer
// (about 2 KB of prose with a path and a URL, as a server's content[].text) and a typical
// argument object (about 200 bytes), whole (Kernel.answer, Kernel.syscall) and by scanner
// (credential redaction and search, value extraction, injection markers, loggable()).
// Runs against dist/ (npm run build first). Prints CPU µs per call, best of a few rounds
// (the least disturbed by the machine), as JSON; BENCH_QUICK=1 runs fewer calls.
import { join } from 'node:path';
import { developmentSigner, Kernel, loadPolicyFile, MemorySink } from '../dist/index.js';
import { loggable } from '../dist/kernel/loggable.js';
import { containsSecret, redactSecrets } from '../dist/provenance/detect.js';
import { looksInjected } from '../dist/provenance/injection.js';
import { extractValues } from '../dist/provenance/values.js';
import { ROOT } from './lib.mjs';

const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = quick ? 3 : 7;
const policy = loadPolicyFile(join(ROOT, 'examples', 'agentk.policy.toml'));

const PROSE = [
  'The build finished without errors after the dependency update.',
  'Two tests were skipped because the fixture server was not running at the time.',
  'The configuration loader now reads the project file before the user file, so a',
  'setting in the project wins over the same setting in the home directory.',
  'Reviewers asked for a shorter summary and for the changelog entry to name the issue.',
];
/** About 2 KB: prose, one path and one URL (what a file or search tool answers). */
function toolAnswerText(n) {
  const lines = [];
  for (let i = 0; lines.join('\n').length < 1900; i++) lines.push(PROSE[(i + n) % PROSE.length]);
  lines.splice(3, 0, `See /home/user/project/src/module${n % 50}.ts for the loader.`);
  lines.splice(7, 0, `Docs: https://docs.example.org/guide/configuration#section-${n % 50}`);
  return lines.join('\n');
}
/** About 200 bytes of arguments (a path, a query, a flag, a sentence). */
function argumentObject(n) {
  return {
    path: `src/kernel/module${n % 50}.ts`,
    query: 'loader configuration order',
    recursive: true,
    limit: 20,
    note: `summarise the changes to module ${n % 50} and list the open questions for review`,
  };
}

function newKernel() {
  return new Kernel({ policy, signer: developmentSigner(), trace: { sink: new MemorySink() } });
}

/**
 * CPU µs per call of `fn(i)` (user + system time of the process, so that time the process
 * spends waiting for a core on a busy machine does not count), best of ROUNDS rounds of
 * `calls` calls, after a warm-up.
 */
function measure(calls, fn) {
  for (let i = 0; i < Math.min(calls, 500); i++) fn(i);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < calls; i++) fn(i);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / calls);
  }
  return Number(best.toFixed(2));
}

const texts = Array.from({ length: 50 }, (_, n) => toolAnswerText(n));
const scale = quick ? 0.2 : 1;
const results = {};

{
  // A fresh kernel per round would measure start-up; one kernel whose log grows is what a
  // session is. Its MemorySink keeps every line, so the call counts stay modest.
  const kernel = newKernel();
  results['Kernel.answer (2 KB tool answer)'] = measure(Math.round(2000 * scale), (i) =>
    kernel.answer({
      kind: 'tool.response',
      target: 'fs/read_file',
      content: { content: [{ type: 'text', text: texts[i % texts.length] }] },
    }),
  );
}
{
  const kernel = newKernel();
  results['Kernel.syscall (tool.invoke, 200 B args)'] = measure(Math.round(2000 * scale), (i) =>
    kernel.syscall({ kind: 'tool.invoke', target: 'fs/read_file', args: argumentObject(i) }),
  );
}
const calls = Math.round(20000 * scale);
const text = (i) => texts[i % texts.length];
results['redactSecrets (2 KB)'] = measure(calls, (i) => redactSecrets(text(i)));
results['containsSecret (2 KB)'] = measure(calls, (i) => containsSecret(text(i)));
results['extractValues (2 KB)'] = measure(calls, (i) => extractValues(text(i)));
results['looksInjected (2 KB)'] = measure(calls, (i) => looksInjected(text(i)));
results['loggable (target, 4096)'] = measure(calls * 5, () => loggable('fs/read_file', 4096));
results['loggable (200 B argument, 512)'] = measure(calls * 5, (i) =>
  loggable(argumentObject(i).note, 512),
);
console.log(JSON.stringify({ unit: 'CPU µs per call', results }, null, 2));
