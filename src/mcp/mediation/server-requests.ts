// Requests from the server to the client (sampling, elicitation, roots, ping): each is
// mediated before the client, its user or its model sees it, and is forwarded under the
// id the proxy gives it, rebuilt from what was mediated.
// Input distrusted: the server's request.

import type { Kernel } from '../../kernel/kernel.js';
import { errorLine, type JsonRpcId, MEMBERS, RPC, type RpcRequest, rebuild } from '../jsonrpc.js';
import { denialText } from './denials.js';
import { isRecord, type Outcome } from './methods.js';

/**
 * A server request headed to the client. `clientCapabilities` are what the client
 * declared at initialize; `relayId` is the id the request carries to the client.
 */
export function mediateServerRequest(
  kernel: Kernel,
  serverId: string,
  request: RpcRequest,
  clientCapabilities: Record<string, unknown>,
  relayId: JsonRpcId,
): Outcome {
  const refuse = (code: number, message: string): Outcome => ({
    action: 'reply',
    line: errorLine(request.id, code, message),
  });
  const forward = (params: unknown = request.params): Outcome => ({
    action: 'forward',
    line: rebuild({ ...request.message, id: relayId, params }, MEMBERS.request),
  });
  const target = `${serverId}/${request.method}`;
  // The client's `tasks` capability is withheld from the server (tasks.ts): no task on it.
  if (isRecord(request.params) && request.params.task !== undefined) {
    return refuse(RPC.invalidParams, 'task-augmented requests to the client are not mediated');
  }
  const declared = (capability: string) => isRecord(clientCapabilities[capability]);
  switch (request.method) {
    case 'ping':
      // A ping carries nothing: anything in its params would be an unmediated channel.
      return forward(undefined);
    case 'sampling/createMessage': {
      if (!declared('sampling'))
        return refuse(RPC.methodNotFound, 'the client did not declare sampling');
      return sampling(kernel, target, request, refuse, forward);
    }
    case 'elicitation/create': {
      if (!declared('elicitation')) {
        return refuse(RPC.methodNotFound, 'the client did not declare elicitation');
      }
      // What reaches the client's user is headed to the client: credentials become
      // handles first, as in answers and notifications.
      const { content: question } = kernel.captureSecrets(request.params ?? {}, target);
      const result = kernel.syscall({
        kind: 'human.approve',
        target,
        question,
        intent: 'a server asks the user a question',
      });
      return result.allowed ? forward(question) : refuse(RPC.denied, denialText(result));
    }
    case 'roots/list': {
      if (!declared('roots')) return refuse(RPC.methodNotFound, 'the client did not declare roots');
      const result = kernel.syscall({
        kind: 'resource.read',
        target,
        intent: "a server asks for the client's roots",
      });
      if (result.allowed) kernel.redeem(result.receipt?.id ?? '');
      return result.allowed ? forward() : refuse(RPC.denied, denialText(result));
    }
    default:
      return refuse(
        RPC.methodNotFound,
        `method ${JSON.stringify(request.method.slice(0, 64))} is not mediated by AgentK`,
      );
  }
}

/**
 * The model's answer goes back to the server unmediated, so the server may not have the
 * client add the session's context to the call (`thisServer`, `allServers`): that would
 * be a channel for everything the agent has read. The MCP spec lets a client ignore the
 * request; AgentK makes it `none`.
 */
function sampling(
  kernel: Kernel,
  target: string,
  request: RpcRequest,
  refuse: (code: number, message: string) => Outcome,
  forward: (params?: unknown) => Outcome,
): Outcome {
  const params = request.params ?? {};
  const widened = params.includeContext !== undefined && params.includeContext !== 'none';
  const result = kernel.syscall({
    kind: 'model.call',
    target,
    prompt: JSON.stringify(params),
    labels: ['untrusted'],
    intent: widened
      ? `a server asks the client to run its model (its includeContext ${JSON.stringify(String(params.includeContext).slice(0, 32))} becomes "none")`
      : 'a server asks the client to run its model',
  });
  if (!result.allowed) return refuse(RPC.denied, denialText(result));
  return widened ? forward({ ...params, includeContext: 'none' }) : forward();
}
