// Verification against its floors: `agentk verify` on a large log (events/s, MB/s, peak
// memory, in a child process of its own) next to a bare SHA-256 pass over the same bytes;
// `agentk verify-signatures` next to bare Ed25519 verifications. Prints JSON.
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  developmentSigner,
  FileSink,
  Kernel,
  loadPolicyFile,
  StaticSecretStore,
} from '../dist/index.js';
import { FlightRecorder } from '../dist/recorder/recorder.js';
import { ROOT, typicalEvent } from './lib.mjs';

const work = process.env.BENCH_WORK;
const quick = process.env.BENCH_QUICK === '1';
const events = quick ? 50_000 : 1_000_000;
const signer = developmentSigner();

// A log of `events` typical events, sealed.
const logPath = join(work, 'verify-big.jsonl');
const template = await typicalEvent();
{
  const recorder = new FlightRecorder(new FileSink(logPath), template.run_id);
  for (let i = 0; i < events; i++) {
    recorder.append({ ...template, ts: new Date(1_800_000_000_000 + i).toISOString() });
  }
  recorder.seal(signer, 'agentk-agent', '2026-11-26T10:00:00.000Z');
}
const bytes = statSync(logPath).size;

/** Run the CLI in a child and return its wall time and peak RSS. */
function timedCli(args) {
  const out = execFileSync(process.execPath, [join(ROOT, 'bench', 'measure.mjs'), ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').at(-1));
}

const verified = timedCli(['verify', logPath]);
if (verified.code !== 0) throw new Error(`agentk verify failed: ${verified.code}`);

// The floor: one SHA-256 pass over the same bytes, read the same way (whole file here).
const data = readFileSync(logPath);
let start = performance.now();
createHash('sha256').update(data).digest('hex');
const shaSeconds = (performance.now() - start) / 1000;

// Signatures: since evidence format 2 receipts are covered by signed checkpoints, not
// signed one by one; what is still signed per event is a secret handle. So the log is
// one `secret.open` per event, each yielding a signed handle (plus the checkpoints and
// the seal), and the rate is signatures checked per second of `verify-signatures`.
const handles = quick ? 2000 : 20_000;
const sigLog = join(work, 'verify-signatures.jsonl');
{
  const kernel = new Kernel({
    policy: loadPolicyFile(join(ROOT, 'examples', 'agentk.policy.toml')),
    signer,
    trace: { path: sigLog },
    secretStores: [new StaticSecretStore({ 'secret://bench/token': 'not a real secret' })],
  });
  for (let i = 0; i < handles; i++) {
    const opened = kernel.syscall({
      kind: 'secret.open',
      target: 'secret://bench/token',
      intent: `handle ${i}`,
      scope: ['tool.invoke:bench/*'],
    });
    if (opened.secretHandle === null)
      throw new Error(`secret.open gave no handle: ${opened.reason}`);
  }
  kernel.close();
}
const signatures = timedCli(['verify-signatures', sigLog]);
if (signatures.code !== 0) throw new Error(`agentk verify-signatures failed: ${signatures.code}`);
const signedCount = readFileSync(sigLog, 'utf8')
  .split('\n')
  .reduce((count, line) => count + (line.match(/"signature":"/g)?.length ?? 0), 0);

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const message = Buffer.alloc(400, 7);
const signature = sign(null, message, privateKey);
const n = quick ? 2000 : 20_000;
start = performance.now();
for (let i = 0; i < n; i++) verify(null, message, publicKey, signature);
const ed25519PerSecond = n / ((performance.now() - start) / 1000);

console.log(
  JSON.stringify({
    events,
    bytes,
    eventsPerSecond: events / verified.seconds,
    mbPerSecond: bytes / 1e6 / verified.seconds,
    shaMbPerSecond: bytes / 1e6 / shaSeconds,
    peakMiB: verified.maxRssMiB,
    signed: signedCount,
    signaturesPerSecond: signedCount / signatures.seconds,
    signaturesSeconds: signatures.seconds,
    ed25519PerSecond,
  }),
);
