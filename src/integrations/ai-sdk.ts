// The Vercel AI SDK (`ai` on npm): every tool's `execute` through the kernel. Typed by the
// shape AgentK needs, so the package is not a dependency of AgentK's.

import type { Kernel } from '../kernel/kernel.js';
import { describeTool, type MediationOptions, mediatedCall } from './tools.js';

/** The part of an AI SDK `Tool` that AgentK reads: its description and its `execute`. */
export interface AiSdkTool {
  readonly description?: string;
  // biome-ignore lint/suspicious/noExplicitAny: the AI SDK types execute's input per tool.
  readonly execute?: (input: any, options: any) => unknown;
}

/**
 * The tools, each `execute` mediated: the descriptor is recorded (a poisoned description
 * refuses the tool), every call is decided on its arguments before it runs, and its output
 * enters context labelled, credentials replaced by handles. A refused call gives the
 * model a `Refusal` object as the tool's output (it sees why and can go on). A tool
 * without `execute` runs in the client application, out of AgentK's reach: it is kept
 * as it is.
 */
export function mediateAiSdkTools<TOOLS extends Record<string, AiSdkTool>>(
  tools: TOOLS,
  kernel: Kernel,
  options: MediationOptions = {},
): TOOLS {
  const mediated: Record<string, AiSdkTool> = {};
  for (const [name, tool] of Object.entries(tools)) {
    const execute = tool.execute;
    if (typeof execute !== 'function') {
      mediated[name] = tool;
      continue;
    }
    const described = describeTool(kernel, name, tool.description, options);
    mediated[name] = {
      ...tool,
      execute: (input: unknown, callOptions: unknown) =>
        mediatedCall(
          kernel,
          described,
          input,
          () => lastOf(execute.call(tool, input, callOptions)),
          options,
        ),
    };
  }
  return mediated as TOOLS;
}

/**
 * A tool's output: an `execute` that yields preliminary results (an async iterable) is
 * read to its end, and its last value is the output (the one the model is given).
 */
async function lastOf(output: unknown): Promise<unknown> {
  const value = await output;
  if (typeof value !== 'object' || value === null || !(Symbol.asyncIterator in value)) {
    return value;
  }
  let last: unknown;
  for await (const item of value as AsyncIterable<unknown>) last = item;
  return last;
}
