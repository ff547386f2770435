import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { developmentSigner } from '../../src/evidence/keys.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { KernelOptions } from '../../src/kernel/options.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { loadPolicyFile, parsePolicyText } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';
import { MemorySink } from '../../src/recorder/sink.js';

export const DEFAULT_POLICY = join(PACKAGE_ROOT, 'examples', 'agentk.policy.toml');
export const PROFILES = ['research-agent', 'coding-agent', 'browser-agent'].map((name) =>
  join(PACKAGE_ROOT, 'examples', 'policies', `${name}.toml`),
);
export const SHIPPED_POLICIES = [DEFAULT_POLICY, ...PROFILES];

const cache = new Map<string, Policy>();
export function policyAt(path: string): Policy {
  let policy = cache.get(path);
  if (!policy) {
    policy = loadPolicyFile(path);
    cache.set(path, policy);
  }
  return policy;
}

/** The default policy without one of its rules (to test what lies behind it). */
export function withoutRule(id: string): Policy {
  const text = readFileSync(DEFAULT_POLICY, 'utf8');
  const start = text.indexOf(`[[rules]]\nid = "${id}"`);
  if (start === -1) throw new Error(`no rule ${id} in the default policy`);
  const end = text.indexOf('[[rules]]', start + 1);
  return parsePolicyText(text.slice(0, start) + text.slice(end), `default policy without ${id}`);
}

/**
 * A kernel on an in-memory log with a fixed clock and the development key. Checkpoints
 * are off unless asked for: where one lands depends on real time, and these tests read
 * the log line by line (checkpoints are tested in test/recorder/checkpoints.test.ts and,
 * on the signing thread, in crash.test.ts and through the proxy binary).
 */
export function memoryKernel(options: Partial<KernelOptions> & { policyPath?: string } = {}): {
  kernel: Kernel;
  sink: MemorySink;
} {
  const sink = new MemorySink();
  const { policyPath, ...rest } = options;
  const kernel = new Kernel({
    policy: policyAt(policyPath ?? DEFAULT_POLICY),
    signer: developmentSigner(),
    runId: 'test-run',
    trace: { sink },
    clock: () => Date.parse('2026-01-01T00:00:00Z'),
    checkpoints: false,
    ...rest,
  });
  return { kernel, sink };
}
