// In-process tools through the kernel: the same syscalls the MCP proxy makes for a tool a
// server offers (its descriptor, each call, each answer), for tools an agent framework
// calls in its own process (the Vercel AI SDK's `execute`, OpenAI Agents' function tools).
// A framework adapter maps its tool shape onto mediatedCall; nothing here knows a framework.
// Input distrusted: the model's arguments, the tool's output, the tool's description.

import type { Kernel } from '../kernel/kernel.js';
import type { SyscallResult } from '../kernel/types.js';

export interface MediationOptions {
  /**
   * The server part of each tool's target (`<server>/<tool>`), which the policy's sinks and
   * labels match on (`mail/*` is egress, `shell/*` exec). Default `local`.
   */
  readonly server?: string;
  /** A tool's target, when the server is not the same for every tool. */
  readonly targetOf?: (toolName: string) => string;
  /** The (spawned) agent that calls the tools; default the kernel's root agent. */
  readonly agent?: string;
}

/** What the model is given instead of a refused call's output. */
export interface Refusal {
  readonly refused: true;
  readonly by: 'agentk';
  readonly verdict: 'deny' | 'ask';
  readonly rule: string;
  readonly reason: string;
  /** The step of the refusal in the flight log (`agentk why <run> <step>` explains it). */
  readonly step: number;
}

export function isRefusal(value: unknown): value is Refusal {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { refused?: unknown }).refused === true &&
    (value as { by?: unknown }).by === 'agentk'
  );
}

function refusalOf(result: SyscallResult): Refusal {
  return {
    refused: true,
    by: 'agentk',
    verdict: result.verdict === 'ask' ? 'ask' : 'deny',
    rule: result.rule,
    reason: result.reason,
    step: result.step,
  };
}

/** One tool's mediation: its target, and whether its descriptor was let into context. */
export interface MediatedTool {
  readonly target: string;
  /** The describe's refusal (a poisoned description): every call is refused with it. */
  readonly refused: Refusal | null;
}

/**
 * Record a tool's descriptor (`tool.describe`): its description enters context like any
 * server's, is scanned for injected instructions, and a poisoned one refuses the tool.
 */
export function describeTool(
  kernel: Kernel,
  name: string,
  description: string | undefined,
  options: MediationOptions,
): MediatedTool {
  const target = targetOf(name, options);
  const described = kernel.syscall(
    {
      kind: 'tool.describe',
      target,
      descriptor: { name, ...(description !== undefined ? { description } : {}) },
    },
    agentOf(options),
  );
  return { target, refused: described.allowed ? null : refusalOf(described) };
}

/**
 * A call through the kernel: `tool.invoke` decided on the model's arguments (an `ask` goes
 * to the kernel's approver), the tool run only when allowed and its one-shot receipt is
 * spent, and its output recorded as a `tool.response` that enters context, credentials in
 * it replaced by handles. The model gets that redacted output, or a Refusal.
 */
export async function mediatedCall(
  kernel: Kernel,
  tool: MediatedTool,
  args: unknown,
  run: () => unknown,
  options: MediationOptions,
): Promise<unknown> {
  if (tool.refused) return tool.refused;
  const how = agentOf(options);
  const call = await kernel.decide(
    { kind: 'tool.invoke', target: tool.target, args: argumentsOf(args) },
    how,
  );
  if (!call.allowed) return refusalOf(call);
  if (call.receipt === null || !kernel.redeem(call.receipt.id)) {
    return { ...refusalOf(call), verdict: 'deny', reason: 'the receipt was already spent' };
  }
  let output: unknown;
  let failed = false;
  try {
    output = await run();
  } catch (error) {
    // The tool's failure is an answer too: its message enters context, labelled.
    failed = true;
    output = { error: error instanceof Error ? error.message : String(error) };
  }
  const answered = kernel.answer(
    { kind: 'tool.response', target: tool.target, content: output ?? null, isError: failed },
    how,
  );
  if (!answered.result.allowed) return refusalOf(answered.result);
  return answered.content;
}

/**
 * The user's own message, from the harness (a channel the model cannot write): recorded
 * as a `context.read` of `user:<name>`, which the default policy labels trusted.
 */
export function userMessage(
  kernel: Kernel,
  text: string,
  options: { readonly name?: string; readonly agent?: string } = {},
): SyscallResult {
  return kernel.syscall(
    { kind: 'context.read', target: `user:${options.name ?? 'message'}`, content: text },
    options.agent !== undefined ? { agent: options.agent } : {},
  );
}

function targetOf(name: string, options: MediationOptions): string {
  return options.targetOf?.(name) ?? `${options.server ?? 'local'}/${name}`;
}

function agentOf(options: MediationOptions): { agent?: string } {
  return options.agent !== undefined ? { agent: options.agent } : {};
}

/** A tool's arguments as the kernel takes them: an object (anything else under `input`). */
function argumentsOf(args: unknown): Readonly<Record<string, unknown>> {
  return typeof args === 'object' && args !== null && !Array.isArray(args)
    ? (args as Record<string, unknown>)
    : { input: args };
}
