// How a kernel is configured: its policy, its log, its signer, secret stores, pins,
// approvals and clock (all optional but the policy), and the defaults it falls back on.

import { type Signer, sha256Hex } from '../crypto/index.js';
import { CompiledPolicy } from '../policy/compile.js';
import type { Policy } from '../policy/types.js';
import { type EventObserver, FlightRecorder } from '../recorder/recorder.js';
import { type Durability, FileSink, type LogSink, MemorySink } from '../recorder/sink.js';
import type { SecretStore } from '../secrets/store.js';
import type { PinStore } from './catalogue/pins.js';
import type { ApprovalAnswer, Approver } from './types.js';

export interface KernelOptions {
  /** A parsed policy (see loadPolicyFile) or a compiled one. */
  readonly policy: Policy | CompiledPolicy;
  /** The root agent's id; defaults to the policy's `[agent] id`. */
  readonly agentId?: string;
  /** Where the flight log goes: a new file, a sink of your own, or (default) memory. */
  readonly trace?:
    | { readonly path: string; readonly durability?: Durability }
    | { readonly sink: LogSink };
  /** The evidence signer; defaults to loadSigner() (environment, key file, development key). */
  readonly signer?: Signer;
  /** Stores that can serve `secret.open` targets. None: every secret.open is denied. */
  readonly secretStores?: readonly SecretStore[];
  /** Capability patterns granted by the embedding code, on top of the policy's. */
  readonly grants?: readonly string[];
  /**
   * Catalogue pins: descriptors are checked against the pinned catalogue of their server
   * (the part of the target before the first `/`), and calls to new or changed ones are
   * refused until approved. Without a store, nothing is pinned.
   */
  readonly pins?: PinStore;
  /**
   * Directories the user configured for the servers (a filesystem server's roots): paths
   * under them share that prefix by structure, not because one was copied from a page.
   */
  readonly roots?: readonly string[];
  /**
   * The server's working directory: relative paths in arguments are resolved against it
   * for rules that match paths. Without it, a relative path is a value no rule can be sure
   * of (an allow rule on paths does not match it).
   */
  readonly cwd?: string;
  /**
   * AgentK's own state, policy and key files (absolute): a call whose path arguments reach
   * one is refused (`kernel.protected-path`), reads included, whatever the policy says.
   */
  readonly protectedPaths?: readonly string[];
  /**
   * A second policy every syscall is also decided under, enforcing nothing: its decision
   * is recorded beside the real one (shadow mode, for trying a policy on live traffic).
   */
  readonly shadowPolicy?: Policy | CompiledPolicy;
  /**
   * Approvals given out of band, by request hash (the MCP proxy reads the signed files of
   * `agentk approve`). Consulted for a request that was asked before and is retried; an
   * answer is recorded as a human.approve syscall and allows that request once.
   */
  readonly approvalSource?: (requestHash: string) => ApprovalAnswer | null;
  /**
   * The command a person runs to approve a request out of band, for the denial's advice
   * (default `agentk approve <hash>`; the proxy names its approvals directory).
   */
  readonly approveCommand?: (requestHash: string) => string;
  /** Answers `ask` decisions. Without one, an `ask` is recorded as a deny that says why. */
  readonly approver?: Approver;
  readonly runId?: string;
  readonly receiptTtlMs?: number;
  /**
   * Signed checkpoints of the chain, which authenticate the receipts of the events they
   * cover (docs/flight-log.md), signed off the main thread: one once the log has been quiet
   * for `intervalMs` (default 5), and while it stays busy one every `busyMs` (default 25).
   * `false` leaves it all to the seal.
   */
  readonly checkpoints?: { readonly intervalMs?: number; readonly busyMs?: number } | false;
  /**
   * Told of each event (syscalls and the seal) once it is in the log, e.g. to export it as
   * telemetry (src/telemetry). Never told of an event the log lacks; what it throws is dropped.
   */
  readonly onEvent?: EventObserver;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly clock?: () => number;
}

export function compiled(policy: Policy | CompiledPolicy): CompiledPolicy {
  return policy instanceof CompiledPolicy ? policy : new CompiledPolicy(policy);
}

export function newRunId(now: number = Date.now()): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${sha256Hex(`${now}:${Math.random()}:${process.pid}`).slice(0, 8)}`;
}

function sinkOf(trace: KernelOptions['trace']): LogSink {
  if (trace === undefined) return new MemorySink();
  return 'sink' in trace ? trace.sink : new FileSink(trace.path, trace.durability ?? 'flush');
}

/** The kernel's flight recorder: its sink, and its checkpoints signed by the run's signer. */
export function recorderOf(
  options: KernelOptions,
  runId: string,
  signer: Signer,
  clock: () => number,
): FlightRecorder {
  const { checkpoints } = options;
  return new FlightRecorder(
    sinkOf(options.trace),
    runId,
    checkpoints === false
      ? undefined
      : { signer, clock, intervalMs: checkpoints?.intervalMs, busyMs: checkpoints?.busyMs },
    options.onEvent,
  );
}
