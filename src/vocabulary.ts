// The kernel's fixed vocabulary: syscall kinds and sink classes. A leaf module so that the
// policy language, the kernel and the CLI all name the same things.

/** The eleven syscalls of the seed, plus the MCP resource and prompt families. */
export const SYSCALL_KINDS = [
  'model.call',
  'context.read',
  'memory.write',
  'tool.describe',
  'tool.invoke',
  'tool.response',
  'secret.open',
  'network.send',
  'file.patch',
  'human.approve',
  'agent.spawn',
  'resource.describe',
  'resource.read',
  'resource.response',
  'prompt.describe',
  'prompt.get',
  'prompt.response',
] as const;

export type SyscallKind = (typeof SYSCALL_KINDS)[number];

/**
 * Syscalls that record what a server showed the agent (a descriptor, an answer) rather
 * than an action the agent takes. They are decided, labelled and chained like every
 * syscall, but an allowed one carries no capability receipt: there is no capability to
 * exercise, and the event is covered by the chain (the next receipt signs its hash as
 * `previous_hash`) and by the seal.
 */
export const OBSERVATION_KINDS: ReadonlySet<SyscallKind> = new Set<SyscallKind>([
  'tool.describe',
  'tool.response',
  'resource.describe',
  'resource.response',
  'prompt.describe',
  'prompt.response',
]);

const KIND_INDEX = new Map<string, number>(SYSCALL_KINDS.map((kind, i) => [kind, i]));

export function isSyscallKind(value: unknown): value is SyscallKind {
  return typeof value === 'string' && KIND_INDEX.has(value);
}

export function kindBit(kind: SyscallKind): number {
  return 1 << (KIND_INDEX.get(kind) ?? 0);
}

export const ALL_KINDS_MASK = (1 << SYSCALL_KINDS.length) - 1;

/** Where a syscall's effect lands (protection model, "Sinks"). */
export const SINK_CLASSES = ['read', 'write', 'exec', 'egress', 'destructive'] as const;
export type SinkClass = (typeof SINK_CLASSES)[number];
export type SinkMask = number;

export const SINK_READ: SinkMask = 1 << 0;
export const SINK_WRITE: SinkMask = 1 << 1;
export const SINK_EXEC: SinkMask = 1 << 2;
export const SINK_EGRESS: SinkMask = 1 << 3;
export const SINK_DESTRUCTIVE: SinkMask = 1 << 4;
export const ALL_SINKS: SinkMask = (1 << SINK_CLASSES.length) - 1;
/** What an unclassifiable tool is treated as: the most sensitive plausible classes. */
export const UNCLASSIFIED_SINKS: SinkMask = SINK_WRITE | SINK_EXEC | SINK_EGRESS | SINK_DESTRUCTIVE;

export function isSinkClass(value: unknown): value is SinkClass {
  return typeof value === 'string' && (SINK_CLASSES as readonly string[]).includes(value);
}

export function sinkBit(sink: SinkClass): SinkMask {
  return 1 << SINK_CLASSES.indexOf(sink);
}

export function sinkMaskOf(sinks: Iterable<SinkClass>): SinkMask {
  let mask = 0;
  for (const sink of sinks) mask |= sinkBit(sink);
  return mask;
}

export function sinksOf(mask: SinkMask): SinkClass[] {
  return SINK_CLASSES.filter((_, i) => mask & (1 << i));
}

/**
 * The sink classes a syscall of each kind can have. Tools (and resource reads and prompt
 * gets, which MCP servers implement as code) are classified per target; the rest are fixed.
 */
export const POSSIBLE_SINKS: Readonly<Record<SyscallKind, SinkMask>> = {
  'model.call': 0,
  'context.read': 0,
  'memory.write': SINK_WRITE,
  'tool.describe': 0,
  'tool.invoke': ALL_SINKS,
  'tool.response': 0,
  'secret.open': 0,
  'network.send': SINK_EGRESS,
  'file.patch': SINK_WRITE | SINK_DESTRUCTIVE,
  'human.approve': 0,
  'agent.spawn': 0,
  'resource.describe': 0,
  'resource.read': ALL_SINKS,
  'resource.response': 0,
  'prompt.describe': 0,
  'prompt.get': ALL_SINKS,
  'prompt.response': 0,
};

export type Verdict = 'allow' | 'deny' | 'ask';
