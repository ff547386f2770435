// Round trips of answers that carry text: the trivial server answers every call with
// `bytes` of prose (bench/trivial-server.mjs), and the passthrough, the SDK's do-nothing
// proxy and AgentK are timed side by side, interleaved in blocks. AgentK hashes, scans and
// indexes each answer (docs/performance.md, "Answers that carry text"); the others only
// copy or parse it.
import { join } from 'node:path';
import { interleavedCalls, ROOT, session, summary } from './lib.mjs';

export async function answerRoundTrip({ agentkArgs, bytes, warmup, rounds, calls }) {
  const server = [process.execPath, join(ROOT, 'bench', 'trivial-server.mjs'), String(bytes)];
  const script = (name) => join(ROOT, 'bench', name);
  const peers = {
    passthrough: await session(process.execPath, [script('passthrough.mjs'), ...server]),
    sdk: await session(process.execPath, [script('sdk-proxy.mjs'), ...server]),
    agentk: await session(process.execPath, agentkArgs(server)),
  };
  const samples = await interleavedCalls(peers, { warmup, rounds, calls });
  for (const peer of Object.values(peers)) await peer.close();
  return Object.fromEntries(Object.keys(peers).map((name) => [name, summary(samples[name])]));
}
