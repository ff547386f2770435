import { join } from 'node:path';
import { developmentSigner } from '../../src/evidence/keys.js';
import { Kernel } from '../../src/kernel/kernel.js';
import type { KernelOptions } from '../../src/kernel/options.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { loadPolicyFile } from '../../src/policy/load.js';
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

/** A kernel on an in-memory log with a fixed clock and the development key. */
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
    ...rest,
  });
  return { kernel, sink };
}
