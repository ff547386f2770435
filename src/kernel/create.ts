// The library's front door: a kernel from a policy file (or the shipped default), with
// every other option as the Kernel takes it. `new Kernel(options)` stays for callers that
// already hold a parsed policy; this is the one-line form docs/library.md starts from.

import { DEFAULT_POLICY_PATH } from '../paths.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { loadPolicyFile } from '../policy/load.js';
import type { Policy } from '../policy/types.js';
import { Kernel } from './kernel.js';
import type { KernelOptions } from './options.js';

export interface CreateKernelOptions extends Omit<KernelOptions, 'policy'> {
  /**
   * A policy file (TOML, `extends` resolved from its directory), a parsed policy, or a
   * compiled one. Default: the shipped default policy (`examples/agentk.policy.toml`).
   */
  readonly policy?: string | Policy | CompiledPolicy;
}

/**
 * A kernel: the syscall boundary for one agent run. Its flight log goes where `trace`
 * says (default: memory), signed by `signer` (default: loadSigner()). A policy file that
 * is missing or invalid throws an AgentkError naming the file and what is wrong.
 */
export function createKernel(options: CreateKernelOptions = {}): Kernel {
  const { policy = DEFAULT_POLICY_PATH, ...rest } = options;
  return new Kernel({
    ...rest,
    policy: typeof policy === 'string' ? loadPolicyFile(policy) : policy,
  });
}
