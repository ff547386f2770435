// How one mediation is called: the harness's side of a syscall (kernel.ts).

import type { Refusal } from './analysis/analysis.js';
import type { ContentReader } from './content.js';
import type { SyscallOptions } from './types.js';

/** How one mediation is called (the harness's side of a syscall). */
export interface Mediation {
  readonly agent: string;
  /** The request comes from Kernel.approve() (a person's answer), not from the agent. */
  readonly fromApprover?: boolean;
  readonly canAsk?: boolean;
  readonly catalogue?: SyscallOptions['catalogue'];
  /** The content reader of this syscall (pre-filled by an answer's one walk). */
  readonly reader?: ContentReader;
  /** The kernel refuses this syscall whatever its analysis finds (a spent budget, a sandbox). */
  readonly refusal?: Refusal | null;
}
