// AgentK as an MCP server: a client (an agent framework, a gateway) asks the kernel to
// decide tool calls, descriptors and responses it will execute itself. Three tools:
// agentk.mediate (tool.invoke), agentk.mediate_descriptor (tool.describe) and
// agentk.record_response (tool.response). Nothing is executed here. Full lifecycle:
// initialize (version negotiation), notifications/initialized, ping; before that only
// initialize and ping are served. Batches, oversized lines and unbounded ids are refused
// with standard JSON-RPC errors, and the session goes on.
// Input distrusted: every line from the client.

import type { Kernel } from '../kernel/kernel.js';
import type { SyscallRequest, SyscallResult } from '../kernel/types.js';
import { errorLine, type JsonRpcId, parseMessage, RPC, resultLine } from './jsonrpc.js';
import { denialOf } from './mediation/denials.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from './mediation/methods.js';

const LATEST = SUPPORTED_PROTOCOL_VERSIONS[SUPPORTED_PROTOCOL_VERSIONS.length - 1] as string;
const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const SERVER_PROPERTY = {
  type: 'string',
  description: 'The MCP server the tool belongs to (default: mcp)',
};
const LABELS_PROPERTY = {
  type: 'array',
  items: { type: 'string' },
  description: 'Labels to add (they can only add restrictions)',
};

export const SERVER_TOOLS = [
  {
    name: 'agentk.mediate',
    title: 'Mediate a tool call',
    description:
      'Decide a tool call before you execute it: returns allow or deny with the rule, reason and labels, and a signed receipt id when allowed. Nothing is executed.',
    inputSchema: {
      type: 'object',
      properties: {
        server: SERVER_PROPERTY,
        name: { type: 'string', description: 'The tool name' },
        arguments: { type: 'object', description: 'The tool arguments' },
        labels: LABELS_PROPERTY,
        intent: { type: 'string' },
      },
      required: ['name'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'agentk.mediate_descriptor',
    title: 'Mediate a tool descriptor',
    description:
      'Decide whether a tool descriptor may be shown to the model; records its hash and labels it (descriptors are untrusted).',
    inputSchema: {
      type: 'object',
      properties: {
        server: SERVER_PROPERTY,
        tool: { type: 'object', description: 'The descriptor' },
      },
      required: ['tool'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'agentk.record_response',
    title: 'Record a tool response',
    description:
      'Record a tool result by hash before it reaches the model; it is labelled (untrusted, plus secret when it holds credentials) and denied if policy forbids it entering context.',
    inputSchema: {
      type: 'object',
      properties: {
        server: SERVER_PROPERTY,
        name: { type: 'string' },
        content: { description: 'The tool result' },
        isError: { type: 'boolean' },
      },
      required: ['name', 'content'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
] as const;

type State = 'fresh' | 'initialized' | 'ready';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class AgentkMcpServer {
  readonly #kernel: Kernel;
  readonly #version: string;
  #state: State = 'fresh';

  constructor(kernel: Kernel, version: string) {
    this.#kernel = kernel;
    this.#version = version;
  }

  /** Handle one line; returns the line to send back, or null for a notification. */
  handle(line: string | null): string | null {
    if (line === null) return errorLine(null, RPC.parseError, 'Parse error: not valid UTF-8');
    const message = parseMessage(line);
    if (message.kind === 'invalid') return errorLine(message.id, message.code, message.reason);
    if (message.kind === 'response') return null; // we send no requests; nothing to match
    if (message.kind === 'notification') {
      if (message.method === 'notifications/initialized' && this.#state === 'initialized') {
        this.#state = 'ready';
      }
      return null;
    }
    const { id, method, params } = message;
    if (method === 'ping') return resultLine(id, {});
    if (method === 'initialize') {
      if (this.#state !== 'fresh') return errorLine(id, RPC.invalidRequest, 'already initialized');
      const requested = params?.protocolVersion;
      if (typeof requested !== 'string') {
        return errorLine(id, RPC.invalidParams, 'initialize needs params.protocolVersion');
      }
      this.#state = 'initialized';
      return resultLine(id, {
        // Negotiation: the client's version if we speak it, else our latest.
        protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST,
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: 'agentk', title: 'AgentK mediation', version: this.#version },
        instructions:
          'Call agentk.mediate before executing any tool call, and act only on "allow".',
      });
    }
    if (this.#state !== 'ready') {
      return errorLine(
        id,
        RPC.notInitialized,
        'session not initialized: send initialize, then notifications/initialized',
      );
    }
    if (method === 'tools/list') return resultLine(id, { tools: SERVER_TOOLS });
    if (method === 'tools/call') return this.#call(id, params);
    return errorLine(
      id,
      RPC.methodNotFound,
      `method ${JSON.stringify(method.slice(0, 64))} not found`,
    );
  }

  #call(id: JsonRpcId, params: Record<string, unknown> | undefined): string {
    const name = params?.name;
    const args = params?.arguments ?? {};
    if (typeof name !== 'string')
      return errorLine(id, RPC.invalidParams, 'tools/call needs params.name');
    if (!isRecord(args))
      return errorLine(id, RPC.invalidParams, 'params.arguments must be an object');
    const server = args.server ?? 'mcp';
    if (typeof server !== 'string' || !SERVER_ID.test(server)) {
      return this.#toolError(id, 'server must be 1-64 of A-Z a-z 0-9 . _ -');
    }
    let request: Record<string, unknown>;
    switch (name) {
      case 'agentk.mediate':
        if (typeof args.name !== 'string' || args.name === '')
          return this.#toolError(id, 'name is required');
        request = {
          kind: 'tool.invoke',
          target: `${server}/${args.name}`,
          args: args.arguments ?? {},
          ...(args.labels !== undefined ? { labels: args.labels } : {}),
          ...(args.intent !== undefined ? { intent: args.intent } : {}),
        };
        break;
      case 'agentk.mediate_descriptor': {
        const tool = args.tool;
        if (!isRecord(tool) || typeof tool.name !== 'string')
          return this.#toolError(id, 'tool must be a descriptor with a name');
        request = { kind: 'tool.describe', target: `${server}/${tool.name}`, descriptor: tool };
        break;
      }
      case 'agentk.record_response':
        if (typeof args.name !== 'string' || args.content === undefined) {
          return this.#toolError(id, 'name and content are required');
        }
        request = {
          kind: 'tool.response',
          target: `${server}/${args.name}`,
          content: args.content,
          ...(args.isError === true ? { isError: true } : {}),
        };
        break;
      default:
        return errorLine(
          id,
          RPC.invalidParams,
          `unknown tool ${JSON.stringify(name.slice(0, 64))}`,
        );
    }
    const result = this.#kernel.syscall(request as unknown as SyscallRequest);
    return resultLine(id, {
      content: [{ type: 'text', text: summary(result) }],
      structuredContent: decision(result),
      isError: false,
    });
  }

  #toolError(id: JsonRpcId, message: string): string {
    return resultLine(id, { content: [{ type: 'text', text: message }], isError: true });
  }
}

function summary(result: SyscallResult): string {
  return `${result.verdict.toUpperCase()} ${result.kind} ${result.target}: ${result.reason} [rule ${result.rule}, step ${result.step}]`;
}

function decision(result: SyscallResult): Record<string, unknown> {
  return {
    verdict: result.verdict,
    allowed: result.allowed,
    syscall: result.kind,
    target: result.target,
    rule: result.rule,
    reason: result.reason,
    step: result.step,
    labels: result.labels,
    receipt: result.receipt?.id ?? null,
    ...(result.allowed ? {} : { denial: denialOf(result) }),
  };
}
