// OpenAI Agents JS (`@openai/agents`): every function tool's `invoke` through the kernel.
// Typed by the shape AgentK needs, so the package is not a dependency of AgentK's.

import type { Kernel } from '../kernel/kernel.js';
import { describeTool, type MediationOptions, mediatedCall } from './tools.js';

/** The part of an Agents SDK tool AgentK reads: a function tool's name, description, invoke. */
export interface OpenAiAgentsTool {
  readonly type: string;
  readonly name?: string;
  readonly description?: string;
  // biome-ignore lint/suspicious/noExplicitAny: the SDK types invoke's context per agent.
  readonly invoke?: (runContext: any, input: string, details?: any) => Promise<unknown>;
}

/**
 * The tools, each function tool's `invoke` mediated (its descriptor recorded, each call
 * decided on its arguments before it runs, its output answered with labels and handles; a
 * refused call gives the model a `Refusal` as its output, as JSON). Hosted tools (web
 * search, code interpreter) run at the model provider, out of AgentK's reach: refused
 * here, unless `allowHosted` says they may pass unmediated.
 */
export function mediateOpenAiAgentsTools<TOOL extends OpenAiAgentsTool>(
  tools: readonly TOOL[],
  kernel: Kernel,
  options: MediationOptions & { readonly allowHosted?: boolean } = {},
): TOOL[] {
  return tools.map((tool) => {
    if (tool.type !== 'function' || typeof tool.invoke !== 'function') {
      if (options.allowHosted) return tool;
      throw new TypeError(
        `AgentK cannot mediate the ${tool.type} tool ${tool.name ?? ''}: it runs outside this process (allowHosted lets it pass unmediated)`,
      );
    }
    const invoke = tool.invoke;
    const name = tool.name ?? 'tool';
    const described = describeTool(kernel, name, tool.description, options);
    const mediated = async (runContext: unknown, input: string, details?: unknown) => {
      const output = await mediatedCall(
        kernel,
        described,
        parsedInput(input),
        () => invoke.call(tool, runContext, input, details),
        options,
      );
      return typeof output === 'string' ? output : JSON.stringify(output);
    };
    return { ...tool, invoke: mediated };
  });
}

/** The model's arguments (a JSON text) as the kernel decides on them. */
function parsedInput(input: string): unknown {
  try {
    return JSON.parse(input);
  } catch {
    // Not JSON: decided on as the text it is (the tool's own parse will refuse it).
    return { input };
  }
}
