// What one flight-log event looks like as an OpenTelemetry span: its name, attributes and
// status, from the event alone (docs/telemetry.md). Pure and free of the OpenTelemetry
// packages, so it is cheap to test and the packages load only with --otel.
//
// Names follow the OpenTelemetry GenAI conventions (semantic-conventions-genai,
// docs/gen-ai/execute-tool.md: `gen_ai.operation.name` = `execute_tool`, span name
// `execute_tool {gen_ai.tool.name}`) and their MCP conventions (docs/gen-ai/mcp.md:
// `mcp.method.name`, `gen_ai.prompt.name`, `mcp.resource.uri`, `network.transport`).
// Only what the log already holds is read: the logged (redacted) target, the verdict,
// rule, labels and hashes. Never the intent, the reason, inputs or detail.

import type { SyscallEvent } from '../recorder/event.js';

export type SpanAttributes = Record<string, string | number | boolean | string[]>;

export interface SpanShape {
  readonly name: string;
  readonly attributes: SpanAttributes;
  /** Milliseconds since the epoch: the event's `ts`. */
  readonly time: number;
  /** Set for a denied syscall: the span is an error, named by its rule. */
  readonly denied: { readonly message: string } | null;
}

/** The MCP method a syscall mediates (its request and its response alike). */
const MCP_METHODS: Readonly<Record<string, string>> = {
  'tool.describe': 'tools/list',
  'tool.invoke': 'tools/call',
  'tool.response': 'tools/call',
  'resource.describe': 'resources/list',
  'resource.read': 'resources/read',
  'resource.response': 'resources/read',
  'prompt.describe': 'prompts/list',
  'prompt.get': 'prompts/get',
  'prompt.response': 'prompts/get',
};

/** `server/name` → name; a target without a server part is its own name. */
function nameInTarget(target: string): string {
  const slash = target.indexOf('/');
  return slash < 0 ? target : target.slice(slash + 1);
}

/** GenAI and MCP attributes, where the syscall is one they describe. */
function conventionAttributes(kind: string, target: string): SpanAttributes {
  const method = MCP_METHODS[kind];
  if (method === undefined) return {};
  const attributes: SpanAttributes = { 'mcp.method.name': method };
  if (kind === 'tool.invoke' || kind === 'tool.response') {
    attributes['gen_ai.tool.name'] = nameInTarget(target);
  }
  if (kind === 'tool.invoke') attributes['gen_ai.operation.name'] = 'execute_tool';
  if (kind === 'prompt.get' || kind === 'prompt.response') {
    attributes['gen_ai.prompt.name'] = nameInTarget(target);
  }
  if (kind === 'resource.read' || kind === 'resource.response') {
    attributes['mcp.resource.uri'] = nameInTarget(target);
  }
  return attributes;
}

/** The span name: low cardinality (a tool or prompt name, never a path or URL). */
function spanName(kind: string, target: string): string {
  if (kind === 'tool.invoke') return `execute_tool ${nameInTarget(target)}`;
  if (kind === 'tool.response' || kind === 'prompt.get' || kind === 'prompt.response') {
    return `agentk ${kind} ${nameInTarget(target)}`;
  }
  return `agentk ${kind}`;
}

export function spanOf(event: SyscallEvent): SpanShape {
  const { syscall, decision } = event;
  const attributes: SpanAttributes = {
    ...conventionAttributes(syscall.kind, syscall.target),
    'agentk.syscall.kind': syscall.kind,
    'agentk.target': syscall.target,
    'agentk.verdict': decision.verdict,
    'agentk.effect': decision.effect,
    'agentk.rule': decision.rule,
    'agentk.labels': [...syscall.labels],
    'agentk.control_labels': [...syscall.control_labels],
    'agentk.sinks': [...syscall.sinks],
    'agentk.event_hash': event.event_hash,
    'agentk.previous_hash': event.previous_hash,
    'agentk.request_hash': decision.request_hash,
    'agentk.run_id': event.run_id,
    'agentk.step': event.step,
    'agentk.agent_id': event.agent_id,
  };
  if (decision.shadow !== undefined) {
    attributes['agentk.shadow.effect'] = decision.shadow.effect;
    attributes['agentk.shadow.rule'] = decision.shadow.rule;
  }
  const denied = decision.verdict === 'allow' ? null : { message: `denied by ${decision.rule}` };
  if (denied !== null) attributes['error.type'] = 'agentk.denied';
  return {
    name: spanName(syscall.kind, syscall.target),
    attributes,
    time: Date.parse(event.ts),
    denied,
  };
}
