// Summarise a `perf record -g` profile of a Node process (run with --perf-basic-prof) into
// the groups docs/performance.md uses. Reads `perf script -F pid,tid,time,ip,sym,dso` on
// stdin; prints three tables, each a share of the process's samples:
//   - self time by group: where the CPU was (the leaf frame; native work named by what
//     called it, e.g. OpenSSL's field arithmetic under an Ed25519 signature);
//   - self time by AgentK function: each sample charged to the innermost frame of dist/
//     on its stack, runtime and builtins included (what the function costs by itself);
//   - inclusive time of AgentK functions (the sample has it anywhere on its stack).
// Usage: perf script -i FILE -F pid,tid,time,ip,sym,dso | node bench/perf-summary.mjs [--pid N] [--top N]

import { createInterface } from 'node:readline';

const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const onlyPid = option('--pid', undefined);
const top = option('--top', 15);

/** Samples as arrays of frames, leaf first: { sym, dso }. */
async function readSamples() {
  const samples = [];
  let current = null;
  for await (const line of createInterface({ input: process.stdin })) {
    const header = /^\s*(\d+)\/(\d+)\s+[\d.]+:/.exec(line);
    if (header && !line.startsWith('\t')) {
      current = Number(header[1]) === onlyPid || onlyPid === undefined ? [] : null;
      if (current) samples.push(current);
      continue;
    }
    const frame = /^\s+[0-9a-f]+ (.*) \((.*)\)$/.exec(line);
    if (frame && current) current.push({ sym: frame[1], dso: frame[2] });
  }
  return samples;
}

const isJs = (f) => /^(JS|RegExp|Eval|Script):/.test(f.sym) && f.dso.includes('perf-');
const isAgentk = (f) => isJs(f) && f.sym.includes('/dist/');
const agentkName = (f) => {
  const m = /^JS:[*^~+]?(\S*) \S*\/dist\/(\S+?):(\d+):\d+$/.exec(f.sym);
  if (!m) return f.sym;
  return `${m[2]} ${m[1] || `(anonymous, line ${m[3]})`}`;
};

// Checked in order against the native frames of a sample (leaf up to the first JS frame):
// a collection triggered inside JSON.stringify is garbage collection, not JSON.
const NATIVE_GROUPS = [
  [
    /Scavenge|MarkCompact|Sweeper|ConcurrentMarking|Marking|GCTracer|Heap::Collect/,
    'garbage collection',
  ],
  [/RegExp|Irregexp|regexp/i, 'regular expressions (V8: compile, exec, builtins)'],
  [/compiler::|Compiler|Parser::|Maglev|Baseline|Bytecode/, 'V8 compilation (JIT, parsing)'],
  [/ed25519|SignTraits/, 'Ed25519 signing (OpenSSL, sha512 included)'],
  [/sha256|SHA256/, 'SHA-256 (OpenSSL)'],
  [/JsonParser/, 'JSON.parse (V8)'],
  [/JsonStringifier/, 'JSON.stringify (V8)'],
];

/** Kernel time and the libc calls into it, named by the system call. */
function syscallGroup(frames, stack) {
  if (/ksys_write|vfs_write|libc_write|__write|writev/.test(stack)) {
    return frames.some((f) => f.sym.includes('/dist/recorder/'))
      ? "write(2) of the trace (the recorder's synchronous append)"
      : 'write(2) to the pipes (client and server)';
  }
  if (/ksys_read|vfs_read|libc_read|__read/.test(stack)) return 'read(2) from the pipes';
  if (/epoll/.test(stack)) return 'epoll (waiting for the pipes)';
  if (/finish_task_switch|__schedule/.test(stack)) return 'kernel: context switches';
  if (/page_fault/.test(stack)) return 'kernel: page faults';
  return frames[0].dso.includes('kernel') ? 'kernel: other' : undefined;
}

/** The group of a sample's leaf: kernel work by syscall, native work by its caller. */
function selfGroup(frames) {
  const leaf = frames[0];
  if (!leaf) return 'unknown';
  const native = [];
  for (const f of frames) {
    if (isJs(f)) break;
    native.push(f.sym);
  }
  const stack = native.join(' ');
  if (leaf.sym.startsWith('RegExp:')) return 'regular expressions (V8: compile, exec, builtins)';
  for (const [pattern, name] of NATIVE_GROUPS) if (pattern.test(stack)) return name;
  const syscall = syscallGroup(frames, stack);
  if (syscall) return syscall;
  if (isAgentk(leaf)) return 'JS code of AgentK (optimised or interpreted)';
  if (isJs(leaf)) return 'JS code of Node (streams, events, fs)';
  if (/^Builtins_/.test(leaf.sym)) return 'V8 builtins and inline caches (property access, calls)';
  if (/malloc|free|operator new|operator delete|memmove|memcpy|memset/.test(leaf.sym)) {
    return 'malloc, free, memcpy';
  }
  if (/^(node::|uv_|uv__)/.test(leaf.sym)) return 'Node C++ and libuv (streams, handles)';
  if (/^v8::/.test(leaf.sym)) return 'V8 runtime (objects, strings, calls into C++)';
  return `other native (${leaf.dso.split('/').at(-1)})`;
}

function innermostAgentk(frames) {
  const f = frames.find(isAgentk);
  if (f) return agentkName(f);
  if (frames.some(isJs)) return '(Node or V8 JS, no AgentK frame)';
  return '(native only: event loop, GC and compiler threads)';
}

function print(title, counts, total) {
  console.log(`\n${title}`);
  const rows = [...counts].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, n] of rows) {
    console.log(`${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
}

const samples = await readSamples();
const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
const self = new Map();
const byFunction = new Map();
const inclusive = new Map();
for (const frames of samples) {
  bump(self, selfGroup(frames));
  bump(byFunction, innermostAgentk(frames));
  for (const name of new Set(frames.filter(isAgentk).map(agentkName))) bump(inclusive, name);
}
console.log(`${samples.length} samples${onlyPid === undefined ? '' : ` of pid ${onlyPid}`}`);
print('Self time by group', self, samples.length);
print('Self time by innermost AgentK function (dist/)', byFunction, samples.length);
print('Inclusive time of AgentK functions', inclusive, samples.length);
