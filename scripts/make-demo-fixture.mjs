#!/usr/bin/env node
// Regenerate test/fixtures/demo-log.jsonl: the demo's syscalls under the default policy
// with a fixed clock, run id and the development key. Receipt and handle ids are random,
// so the committed file is the reference; rerun this only when the event format changes,
// then refresh the golden outputs with `UPDATE_GOLDEN=1 npx vitest run test/review`.
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoSteps } from '../dist/demo/poisoned-page.js';
import { developmentSigner, Kernel, loadPolicyFile, StaticSecretStore } from '../dist/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const path = join(root, 'test', 'fixtures', 'demo-log.jsonl');
try {
  unlinkSync(path);
} catch {}
let now = Date.parse('2026-01-01T12:00:00.000Z');
const kernel = new Kernel({
  policy: loadPolicyFile(join(root, 'examples', 'agentk.policy.toml')),
  signer: developmentSigner(),
  runId: '20260101T120000Z-fixture',
  trace: { path },
  clock: () => now++,
  secretStores: [new StaticSecretStore({ 'secret://ssh/id_rsa': 'dummy key' })],
});
let handle;
for (const step of demoSteps()) {
  const result = kernel.syscall(
    step.kind === 'network.send' && handle ? { ...step, body: { key: handle } } : step,
  );
  handle ??= result.secretHandle?.id;
}
kernel.close();
console.log(`wrote ${path}`);
