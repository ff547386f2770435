// CPU per call of the proxy's own work, with no transport: the ProxySession that the stdio
// and HTTP proxies run, fed the client's lines and the trivial server's answers directly
// (trivial-answers.mjs), in chunks as the stdio proxy batches them, with a kernel and file
// trace as `agentk mcp-proxy-stdio` makes them (its default policy, the development key)
// and no pipes, child processes or event loop in between. What a proxied call costs
// when carrying it costs nothing: parsing, mediation, both events encoded, hashed and
// written, the answer's text indexed. A synchronous loop, so no checkpoint is signed (the
// session never goes quiet). The floor of AgentK's round trip over a bare passthrough.
//
//   node bench/session-cpu.mjs [calls=10000] [rounds=5] [checkouts, comma-separated]
//
// BENCH_ANSWER_BYTES=N as for the other benchmarks. Each round of each checkout runs in a
// child process of its own (two builds never share a JIT or a heap), interleaved; each
// prints the median of its rounds.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { answerTo } from './trivial-answers.mjs';

const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const WARMUP = 5000;

async function child(checkout, calls) {
  const dist = (...path) => pathToFileURL(join(checkout, 'dist', ...path)).href;
  const { Kernel, loadPolicyFile, developmentSigner } = await import(dist('index.js'));
  const { ProxySession } = await import(dist('mcp', 'proxy', 'session.js'));
  const { PinStore } = await import(dist('kernel', 'catalogue', 'pins.js'));
  const work = mkdtempSync(join(tmpdir(), 'agentk-session-cpu-'));
  const kernel = new Kernel({
    policy: loadPolicyFile(join(checkout, 'examples', 'agentk.policy.toml')),
    signer: developmentSigner(),
    trace: { path: join(work, 'trace.jsonl') },
    pins: new PinStore(join(work, 'pins')),
  });
  const session = new ProxySession({ kernel, serverId: 'bench', startsServer: true });
  const toServer = [];
  const toClient = [];
  session.attach(
    { send: (line) => toClient.push(line), close() {} },
    {
      writable: true,
      send: (line) => toServer.push(line) && 'sent',
      shutdown() {},
      terminate() {},
    },
    (work) => kernel.batch(work),
  );
  session.serverStarted();
  const options = { answerBytes: Number(process.env.BENCH_ANSWER_BYTES ?? 0) };
  let id = 0;
  // One client message in, as one chunk; what it sends the server answered, as another.
  const exchange = (method, params) => {
    const line = JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params });
    kernel.batch(() => session.fromClient(line));
    for (const sent of toServer.splice(0)) {
      const answer = answerTo(JSON.parse(sent), options);
      if (answer !== undefined) kernel.batch(() => session.fromServer(JSON.stringify(answer)));
    }
    kernel.settle();
    const got = toClient.splice(0);
    // A refusal or an error would be a fast call that is no call: stop.
    if (got.length !== 1 || !got[0].includes('"result"')) {
      throw new Error(`not one result for ${method}: ${got.join(' | ')}`);
    }
  };
  exchange('initialize', {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'bench', version: '1' },
  });
  kernel.batch(() =>
    session.fromClient(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })),
  );
  toServer.length = 0;
  exchange('tools/list', {});
  const call = (n) => exchange('tools/call', { name: 'lookup', arguments: { n } });
  for (let n = 0; n < WARMUP; n++) call(n);
  const before = process.cpuUsage();
  for (let n = WARMUP; n < WARMUP + calls; n++) call(n);
  const used = process.cpuUsage(before);
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(`${(used.user + used.system) / calls}\n`);
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], Number(process.argv[4]));
} else {
  const calls = Number(process.argv[2] ?? 10_000);
  const rounds = Number(process.argv[3] ?? 5);
  const checkouts = (process.argv[4] || ROOT).split(',').map((dir) => resolve(dir));
  const script = new URL(import.meta.url).pathname;
  const perCall = new Map(checkouts.map((dir) => [dir, []]));
  for (let round = 0; round < rounds; round++) {
    for (const dir of checkouts) {
      // The child's errors go to our stderr, once.
      const out = execFileSync(process.execPath, [script, '--child', dir, String(calls)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      perCall.get(dir).push(Number(out.trim()));
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  for (const [dir, values] of perCall) {
    const each = values.map((v) => v.toFixed(1)).join(' / ');
    console.log(
      `${dir.padEnd(24)} ${median(values).toFixed(1).padStart(7)} µs CPU per call (${each})`,
    );
  }
}
