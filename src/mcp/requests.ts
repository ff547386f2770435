// Mediation of MCP-shaped requests without a server: what `agentk mcp-proxy --request`,
// `mcp-stdio` and `mcp-lines` do. Each request goes through the same mediator as the live
// proxy and the kernel records it; nothing is executed. The output says what the proxy
// would have done: forward it (allowed) or answer it (denied, or malformed).
// Input distrusted: the request lines.

import { parseMessage } from './jsonrpc.js';
import type { McpMediator } from './mediation/mediator.js';

const MEDIATED = new Set(['tools/call', 'resources/read', 'prompts/get']);

export interface MediatedRequest {
  readonly id: string | number | null;
  readonly method: string | null;
  readonly verdict: 'allow' | 'deny' | 'ask' | 'invalid';
  readonly executed: false;
  readonly syscall?: string;
  readonly target?: string;
  readonly rule?: string;
  readonly reason?: string;
  readonly step?: number;
  readonly labels?: readonly string[];
  readonly missing_capability?: string | null;
  readonly receipt?: string | null;
  /** For an invalid request: the JSON-RPC error the proxy would send. */
  readonly error?: { readonly code: number; readonly message: string };
}

export function mediateRequestLine(mediator: McpMediator, line: string): MediatedRequest {
  const message = parseMessage(line);
  if (message.kind === 'invalid') {
    return {
      id: message.id,
      method: null,
      verdict: 'invalid',
      executed: false,
      error: { code: message.code, message: message.reason },
    };
  }
  if (message.kind !== 'request' || !MEDIATED.has(message.method)) {
    return {
      id: message.kind === 'request' ? message.id : null,
      method: message.kind === 'response' ? null : message.method,
      verdict: 'invalid',
      executed: false,
      error: {
        code: -32601,
        message: 'only tools/call, resources/read and prompts/get requests are mediated here',
      },
    };
  }
  const outcome = mediator.clientRequest(message);
  const result = outcome.syscall;
  if (!result) {
    const parsed = JSON.parse(outcome.line) as { error?: { code: number; message: string } };
    return {
      id: message.id,
      method: message.method,
      verdict: 'invalid',
      executed: false,
      ...(parsed.error ? { error: parsed.error } : {}),
    };
  }
  return {
    id: message.id,
    method: message.method,
    verdict: result.verdict,
    executed: false,
    syscall: result.kind,
    target: result.target,
    rule: result.rule,
    reason: result.reason,
    step: result.step,
    labels: result.labels,
    missing_capability: result.missingCapability,
    receipt: result.receipt?.id ?? null,
  };
}
