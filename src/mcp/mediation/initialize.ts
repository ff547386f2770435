// The server's answer to initialize, as the client sees it: the protocol version must be
// one AgentK mediates, the capabilities are cut to what it mediates, credentials become
// handles, and the instructions (which usually reach the model) are a prompt.response.
// Input distrusted: the server's result.

import type { Kernel } from '../../kernel/kernel.js';
import { errorLine, type JsonRpcId, RPC, resultLine } from '../jsonrpc.js';
import { isRecord, mediatedCapabilities, SUPPORTED_PROTOCOL_VERSIONS } from './methods.js';

/**
 * The server's initialize result reaches the client, and its `instructions` usually the
 * model's context: credentials become handles, and the instructions are a
 * prompt.response syscall (so their taint is derived and recorded), dropped if denied.
 */
export function initializeResult(
  kernel: Kernel,
  target: string,
  id: JsonRpcId,
  result: unknown,
  rawLine: () => string,
  bad: (what: string) => string,
): string {
  if (
    !isRecord(result) ||
    typeof result.protocolVersion !== 'string' ||
    !isRecord(result.capabilities)
  ) {
    return bad('no protocolVersion or capabilities');
  }
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(result.protocolVersion)) {
    return errorLine(
      id,
      RPC.unsupportedVersion,
      `downstream server chose protocol version ${JSON.stringify(result.protocolVersion.slice(0, 32))}, which AgentK does not mediate (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
    );
  }
  const { content } = kernel.captureSecrets(result, target);
  let clean = content as Record<string, unknown>;
  const capabilities = mediatedCapabilities(result.capabilities);
  if (JSON.stringify(capabilities) !== JSON.stringify(result.capabilities)) {
    clean = { ...clean, capabilities };
  }
  if (typeof clean.instructions === 'string' && clean.instructions.length > 0) {
    const decision = kernel.syscall({
      kind: 'prompt.response',
      target,
      content: clean.instructions,
      intent: 'the server instructions sent at initialize',
    });
    if (!decision.allowed) {
      const { instructions: _dropped, ...rest } = clean;
      clean = rest;
    }
  }
  return clean === result ? rawLine() : resultLine(id, clean);
}
