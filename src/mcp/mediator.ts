// MCP messages as kernel syscalls. This is the policy half of the proxy, with no I/O: it
// turns a client request into a syscall and either the line to forward or the answer to
// give, and turns a server's answer into the line the client sees. Labels come from the
// kernel; client metadata only adds restrictions and is stripped before forwarding.
// Clean traffic is forwarded as the exact bytes received when they are the compact form
// of what was mediated (else re-serialised); members JSON-RPC does not define are dropped.
// Input distrusted: both peers.

import { replaceHandles } from '../evidence/receipts.js';
import { mapStrings } from '../kernel/content.js';
import type { Kernel } from '../kernel/kernel.js';
import type { SyscallRequest, SyscallResult } from '../kernel/types.js';
import {
  cleanLine,
  errorLine,
  type JsonRpcId,
  MEMBERS,
  RPC,
  type RpcRequest,
  type RpcResponse,
  rebuild,
  resultLine,
} from './jsonrpc.js';
import { type ClientMetadata, stripAgentkMetadata } from './metadata.js';

/** Client methods the proxy mediates; any other is refused and never forwarded. */
export const CLIENT_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'logging/setLevel',
]);

/** RFC 5424 severities, the only thing logging/setLevel may carry. */
const LOG_LEVELS = new Set([
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
]);

/** Notifications forwarded client -> server. */
export const CLIENT_NOTIFICATIONS = new Set([
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
]);

/** Notifications forwarded server -> client. */
export const SERVER_NOTIFICATIONS = new Set([
  'notifications/message',
  'notifications/progress',
  'notifications/cancelled',
  'notifications/tools/list_changed',
  'notifications/resources/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/updated',
]);

/** Server -> client requests the proxy mediates. */
export const SERVER_METHODS = new Set([
  'ping',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
]);

export const SUPPORTED_PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];

export interface Outcome {
  /** forward to the server, reply to the client, or ask the client's user first. */
  readonly action: 'forward' | 'reply' | 'ask';
  readonly line: string;
  /** The kernel's decision, for requests that are syscalls before they are forwarded. */
  readonly syscall?: SyscallResult;
}

/** Client requests that are syscalls before they reach the server. */
const INVOCATIONS: Readonly<
  Record<
    string,
    { kind: 'tool.invoke' | 'resource.read' | 'prompt.get'; key: 'name' | 'uri'; maxLength: number }
  >
> = {
  'tools/call': { kind: 'tool.invoke', key: 'name', maxLength: 256 },
  'resources/read': { kind: 'resource.read', key: 'uri', maxLength: 4096 },
  'prompts/get': { kind: 'prompt.get', key: 'name', maxLength: 256 },
};

/** The params members MCP defines for each client request the proxy forwards. */
const PARAM_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  ping: [],
  'tools/list': ['cursor'],
  'resources/list': ['cursor'],
  'resources/templates/list': ['cursor'],
  'prompts/list': ['cursor'],
  'tools/call': ['name', 'arguments'],
  'resources/read': ['uri'],
  'prompts/get': ['name', 'arguments'],
};
/**
 * A progress token of a plain shape: an integer (as the MCP SDKs send it), or a short
 * plain id (which can still carry a few bytes; docs/mcp-proxy.md says so).
 */
const PROGRESS_TOKEN = /^[\w.:-]{1,64}$/;
function isPlainProgressToken(token: unknown): token is string | number {
  return (
    (typeof token === 'number' && Number.isSafeInteger(token)) ||
    (typeof token === 'string' && PROGRESS_TOKEN.test(token))
  );
}

/**
 * What a client notification may carry to the server: only the members MCP defines, no
 * free text (a progress `message`, a cancellation `reason`). Undefined: forward it without
 * params; null: drop it (a progress report whose token or numbers are not plain). The
 * cancellation of a request is rebuilt by the proxy, which knows the downstream id.
 */
export function clientNotificationParams(
  method: string,
  params: Record<string, unknown> | undefined,
): Record<string, unknown> | null | undefined {
  if (method !== 'notifications/progress') return undefined;
  const { progressToken, progress, total } = params ?? {};
  if (!isPlainProgressToken(progressToken) || typeof progress !== 'number') return null;
  return { progressToken, progress, ...(typeof total === 'number' ? { total } : {}) };
}

/** List cursors remembered per session (only cursors the server issued are forwarded). */
const MAX_CURSORS = 4096;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The denial a person (and the agent) can read and act on. */
export function denialOf(result: SyscallResult): Record<string, unknown> {
  return {
    denied: true,
    syscall: result.kind,
    target: result.target,
    verdict: result.verdict,
    rule: result.rule,
    reason: result.reason,
    step: result.step,
    request_hash: result.requestHash,
    ...(result.missingCapability ? { missing_capability: result.missingCapability } : {}),
    ...(result.provenance.length > 0
      ? {
          tainted_by: result.provenance.map((hit) => ({
            argument: hit.arg,
            page: hit.page,
            page_sha256: hit.pageSha256,
          })),
        }
      : {}),
  };
}

export function denialText(result: SyscallResult): string {
  const what = result.kind === 'tool.response' ? 'the result of' : '';
  return `AgentK denied ${what ? `${what} ` : ''}${result.kind} ${result.target}: ${result.reason} [rule ${result.rule}, step ${result.step}]`;
}

/** The MCP family of a method, for recording its answer as a syscall. */
function responseKind(
  method: string,
): 'tool.response' | 'resource.response' | 'prompt.response' | null {
  if (method.startsWith('tools/')) return 'tool.response';
  if (method.startsWith('resources/')) return 'resource.response';
  if (method.startsWith('prompts/')) return 'prompt.response';
  return null;
}

/** The name of another tool of the same catalogue that a descriptor's text mentions, if any. */
function mentionsOtherTool(
  descriptor: Record<string, unknown>,
  own: string,
  names: readonly string[],
): string | undefined {
  const text = [descriptor.description, descriptor.title]
    .filter((part): part is string => typeof part === 'string')
    .join('\n');
  if (text === '') return undefined;
  return names.find((name) => {
    if (name === own || name.length < 4) return false;
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`, 'i').test(text);
  });
}

export class McpMediator {
  readonly kernel: Kernel;
  readonly serverId: string;
  /** Tools that declared an output schema: their denials carry no structuredContent. */
  readonly #schemaTools = new Set<string>();
  /** `method\0cursor` for every nextCursor the server returned. */
  readonly #cursors = new Set<string>();

  constructor(kernel: Kernel, serverId: string) {
    this.kernel = kernel;
    this.serverId = serverId;
  }

  #target(name: string): string {
    return `${this.serverId}/${name}`;
  }

  #syscall(request: SyscallRequest, metadata: ClientMetadata, canAsk = false): SyscallResult {
    const withMeta = {
      ...request,
      ...(metadata.labels.length > 0 ? { labels: metadata.labels } : {}),
      ...(metadata.intent !== undefined && request.intent === undefined
        ? { intent: metadata.intent }
        : {}),
    };
    return this.kernel.syscall(withMeta as SyscallRequest, { canAsk });
  }

  /**
   * A client request (already past lifecycle checks): forward it, under `forwardId` (the
   * id the proxy gives it downstream) and re-serialised from what was mediated, or answer
   * it here. Invocations carry their syscall result.
   */
  clientRequest(request: RpcRequest, canAsk = false, forwardId: JsonRpcId = request.id): Outcome {
    const { params, metadata } = stripAgentkMetadata(request.params);
    const id = request.id;
    const invalid = (message: string): Outcome => ({
      action: 'reply',
      line: errorLine(id, RPC.invalidParams, message),
    });
    const permitted = this.#permittedParams(request.method, params);
    if (typeof permitted === 'string') return invalid(permitted);
    // What the kernel saw, nothing more: AgentK metadata stripped, and for mediated methods
    // only their permitted members (none at all if the client sent no params).
    const forwarded =
      permitted === undefined || (params === undefined && Object.keys(permitted).length === 0)
        ? params
        : permitted;
    const forwardLine = rebuild(
      { ...request.message, id: forwardId, params: forwarded },
      MEMBERS.request,
    );
    if (metadata.problem !== undefined) {
      return {
        action: 'reply',
        line: errorLine(id, RPC.badMetadata, `invalid AgentK metadata: ${metadata.problem}`),
      };
    }
    if (request.method === 'logging/setLevel') {
      // No data flows: only a severity, rebuilt so that nothing else rides along.
      const level = params?.level;
      if (typeof level !== 'string' || !LOG_LEVELS.has(level)) {
        return invalid('logging/setLevel needs params.level, an RFC 5424 severity');
      }
      return {
        action: 'forward',
        line: JSON.stringify({
          jsonrpc: '2.0',
          id: forwardId,
          method: 'logging/setLevel',
          params: { level },
        }),
      };
    }
    const spec = INVOCATIONS[request.method];
    // initialize, ping and the list methods are mediated on the way back.
    if (spec === undefined) return { action: 'forward', line: forwardLine };
    const name = params?.[spec.key];
    if (typeof name !== 'string' || name.length === 0 || name.length > spec.maxLength) {
      return invalid(`${request.method} needs params.${spec.key}`);
    }
    const args = spec.key === 'uri' ? { uri: name } : (params?.arguments ?? {});
    if (!isRecord(args)) return invalid(`${request.method} params.arguments must be an object`);
    const result = this.#syscall(
      { kind: spec.kind, target: this.#target(name), args },
      metadata,
      canAsk,
    );
    if (result.verdict === 'ask') return { action: 'ask', line: '', syscall: result };
    const deny = (denied: SyscallResult): Outcome => ({
      action: 'reply',
      line:
        spec.kind === 'tool.invoke'
          ? this.#toolDenial(id, name, denied)
          : errorLine(id, RPC.denied, denialText(denied), { agentk: denialOf(denied) }),
      syscall: denied,
    });
    if (!result.allowed || !this.kernel.redeem(result.receipt?.id ?? '')) return deny(result);
    // Secret handles in the arguments become their values, for this allowed sink only.
    const handles = result.event.syscall.inputs
      .filter((input) => input.ref.startsWith('handle:'))
      .map((input) => input.ref.slice('handle:'.length));
    if (handles.length === 0) return { action: 'forward', line: forwardLine, syscall: result };
    const receipt = result.receipt?.id ?? '';
    const values = new Map<string, string>();
    try {
      for (const handle of handles) {
        values.set(handle, Buffer.from(this.kernel.revealSecret(handle, receipt)).toString('utf8'));
      }
    } catch (error) {
      const why = error instanceof Error ? error.message : 'secret handle unusable';
      return { action: 'reply', line: errorLine(id, RPC.denied, why), syscall: result };
    }
    const substituted = mapStrings(params?.arguments ?? {}, (text) =>
      replaceHandles(text, (match) => values.get(match) ?? match),
    );
    return {
      action: 'forward',
      line: rebuild(
        { ...request.message, id: forwardId, params: { ...permitted, arguments: substituted } },
        MEMBERS.request,
      ),
      syscall: result,
    };
  }

  /**
   * The params to forward for a mediated request: only the members MCP defines for its
   * method, a list cursor only if the server issued it, and `_meta` only as a plain
   * progress token (anything else in params would reach the server without the kernel
   * seeing it). Undefined for methods forwarded as they are (initialize); a
   * string names what is wrong.
   */
  #permittedParams(
    method: string,
    params: Record<string, unknown> | undefined,
  ): Record<string, unknown> | string | undefined {
    const members = PARAM_MEMBERS[method];
    if (members === undefined) return undefined;
    const out: Record<string, unknown> = {};
    for (const member of members) {
      if (params?.[member] !== undefined && params[member] !== null) out[member] = params[member];
    }
    if (
      out.cursor !== undefined &&
      (typeof out.cursor !== 'string' || !this.#cursors.has(`${method}\0${out.cursor}`))
    ) {
      return `${method} params.cursor was not issued by the server in this session`;
    }
    const meta = params?._meta;
    const token = isRecord(meta) ? meta.progressToken : undefined;
    if (isPlainProgressToken(token)) out._meta = { progressToken: token };
    return out;
  }

  /** The elicitation/create params that put an `ask` to the client's user. */
  approvalQuestion(asked: SyscallResult): Record<string, unknown> {
    const taint = asked.controlLabels.filter((label) => label !== 'trusted');
    return {
      message: [
        `AgentK asks for your approval of one request by the agent.`,
        `What: ${asked.kind} ${asked.target}${taint.length > 0 ? ` (steered by ${taint.join(', ')} content)` : ''}`,
        `Why it needs you: ${asked.reason} [rule ${asked.rule}]`,
        `Request hash: ${asked.requestHash}`,
        'Approving allows this exact request once.',
      ].join('\n'),
      requestedSchema: {
        type: 'object',
        properties: {
          approve: { type: 'boolean', title: 'Allow this request, once?', default: false },
        },
        required: ['approve'],
      },
    };
  }

  /** The answer to a request a person declined (or did not answer). */
  declined(request: RpcRequest, asked: SyscallResult, why: string): string {
    const denied = {
      ...asked,
      verdict: 'deny' as const,
      allowed: false,
      reason: `${asked.reason} (not approved: ${why})`,
    };
    if (request.method === 'tools/call') {
      return this.#toolDenial(request.id, String(request.params?.name ?? ''), denied);
    }
    return errorLine(request.id, RPC.denied, denialText(denied), { agentk: denialOf(denied) });
  }

  #toolDenial(id: JsonRpcId, name: string, result: SyscallResult): string {
    const denial = denialOf(result);
    return resultLine(id, {
      content: [{ type: 'text', text: denialText(result) }],
      isError: true,
      ...(this.#schemaTools.has(name) ? {} : { structuredContent: { agentk: denial } }),
      _meta: { 'agentk/denial': denial },
    });
  }

  /**
   * A server's answer to a forwarded client request: the line the client receives, under
   * the client's own id, re-serialised from what was mediated.
   */
  serverResponse(request: RpcRequest, response: RpcResponse): string {
    const { method } = request;
    const id = request.id;
    const rawLine = rebuild({ ...response.message, id }, MEMBERS.response);
    if (response.error) return this.#sanitizedError(request, response);
    const result = response.result;
    const bad = (what: string) => {
      this.#recordAnswer(request, result ?? null, true);
      return errorLine(
        id,
        RPC.badResponse,
        `downstream server returned a malformed ${method} result (${what})`,
      );
    };
    switch (method) {
      case 'initialize': {
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
        return this.#initializeResult(id, result, rawLine);
      }
      case 'ping':
      case 'logging/setLevel':
        // Empty results by contract: anything inside would be an unmediated channel.
        if (!isRecord(result)) return bad('not an object');
        return Object.keys(result).length === 0 ? rawLine : resultLine(id, {});
      case 'tools/list':
        return this.#descriptors(request, result, rawLine, 'tools', 'tool.describe', (d) => d.name);
      case 'resources/list':
        return this.#descriptors(
          request,
          result,
          rawLine,
          'resources',
          'resource.describe',
          (d) => d.uri,
        );
      case 'resources/templates/list':
        return this.#descriptors(
          request,
          result,
          rawLine,
          'resourceTemplates',
          'resource.describe',
          (d) => d.uriTemplate,
        );
      case 'prompts/list':
        return this.#descriptors(
          request,
          result,
          rawLine,
          'prompts',
          'prompt.describe',
          (d) => d.name,
        );
      case 'tools/call': {
        if (!isRecord(result) || !Array.isArray(result.content)) return bad('no content list');
        const name = String(request.params?.name ?? '');
        const { content, answer } = this.#answer('tool.response', this.#target(name), result);
        if (!answer.allowed) return this.#toolDenial(id, name, answer);
        return content === result ? rawLine : resultLine(id, content);
      }
      case 'resources/read': {
        if (!isRecord(result) || !Array.isArray(result.contents)) return bad('no contents list');
        const uri = String(request.params?.uri ?? '');
        const { content, answer } = this.#answer('resource.response', this.#target(uri), result);
        if (!answer.allowed)
          return errorLine(id, RPC.denied, denialText(answer), { agentk: denialOf(answer) });
        return content === result ? rawLine : resultLine(id, content);
      }
      case 'prompts/get': {
        if (!isRecord(result) || !Array.isArray(result.messages)) return bad('no messages list');
        const name = String(request.params?.name ?? '');
        const { content, answer } = this.#answer('prompt.response', this.#target(name), result);
        if (!answer.allowed)
          return errorLine(id, RPC.denied, denialText(answer), { agentk: denialOf(answer) });
        return content === result ? rawLine : resultLine(id, content);
      }
      default:
        return errorLine(id, RPC.internalError, 'no mediation for this method');
    }
  }

  /**
   * The server's initialize result reaches the client, and its `instructions` usually the
   * model's context: credentials become handles, and the instructions are a
   * prompt.response syscall (so their taint is derived and recorded), dropped if denied.
   */
  #initializeResult(id: JsonRpcId, result: Record<string, unknown>, rawLine: string): string {
    const target = this.#target('initialize');
    const { content } = this.kernel.captureSecrets(result, target);
    let clean = content as Record<string, unknown>;
    if (typeof clean.instructions === 'string' && clean.instructions.length > 0) {
      const decision = this.kernel.syscall({
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
    return clean === result ? rawLine : resultLine(id, clean);
  }

  /**
   * A server's answer headed to the client: credential material is first replaced by
   * secret handles (each a secret.open syscall), then the answer is a response syscall.
   */
  #answer(
    kind: 'tool.response' | 'resource.response' | 'prompt.response',
    target: string,
    result: Record<string, unknown>,
  ): { content: unknown; answer: SyscallResult } {
    const { content } = this.kernel.captureSecrets(result, target);
    const answer = this.kernel.syscall({
      kind,
      target,
      content,
      ...(kind === 'tool.response' && result.isError === true ? { isError: true } : {}),
    });
    return { content, answer };
  }

  /**
   * A server notification headed to the client: log messages and progress text can carry
   * credentials too; they are replaced by handles like any answer. Returns the line.
   */
  serverNotification(message: Record<string, unknown>, rawLine: string): string {
    const params = message.params;
    if (!isRecord(params)) return cleanLine(message, rawLine, MEMBERS.notification);
    const { content } = this.kernel.captureSecrets(params, this.#target(String(message.method)));
    return content === params
      ? cleanLine(message, rawLine, MEMBERS.notification)
      : rebuild({ ...message, params: content }, MEMBERS.notification);
  }

  /** One describe syscall per descriptor; denied descriptors are hidden from the list. */
  #descriptors(
    request: RpcRequest,
    result: unknown,
    rawLine: string,
    key: string,
    kind: 'tool.describe' | 'resource.describe' | 'prompt.describe',
    nameOf: (descriptor: Record<string, unknown>) => unknown,
  ): string {
    const list = isRecord(result) ? result[key] : undefined;
    if (!Array.isArray(list) || list.length > 10_000) {
      return errorLine(
        request.id,
        RPC.badResponse,
        `downstream server returned a malformed ${request.method} result (no ${key} list)`,
      );
    }
    const next = isRecord(result) ? result.nextCursor : undefined;
    if (typeof next === 'string' && next.length <= 4096) {
      // Bounded: past the cap the oldest cursors are forgotten (a client using one then
      // gets a clear error and lists again from the start).
      if (this.#cursors.size >= MAX_CURSORS)
        this.#cursors.delete(this.#cursors.values().next().value as string);
      this.#cursors.add(`${request.method}\0${next}`);
    }
    const kept: unknown[] = [];
    const names: string[] = [];
    for (const descriptor of list) {
      const name = isRecord(descriptor) ? nameOf(descriptor) : undefined;
      if (
        !isRecord(descriptor) ||
        typeof name !== 'string' ||
        name.length === 0 ||
        name.length > 4096
      ) {
        return errorLine(
          request.id,
          RPC.badResponse,
          `downstream server returned a malformed ${request.method} entry`,
        );
      }
      names.push(name);
    }
    for (const descriptor of list as Record<string, unknown>[]) {
      const name = nameOf(descriptor) as string;
      // A description that names another tool is trying to steer the model (shadowing).
      const mentions = mentionsOtherTool(descriptor, name, names);
      const decision = this.kernel.syscall({
        kind,
        target: this.#target(name),
        descriptor,
        ...(mentions
          ? { labels: ['poisoned-suspect'], intent: `its description names ${mentions}` }
          : {}),
      });
      if (decision.allowed) {
        kept.push(descriptor);
        if (kind === 'tool.describe' && isRecord(descriptor.outputSchema))
          this.#schemaTools.add(name);
      }
    }
    this.kernel.endCatalogueListing(
      this.serverId,
      kind === 'tool.describe' ? 'tools' : kind === 'prompt.describe' ? 'prompts' : 'resources',
    );
    if (kept.length === list.length) return rawLine;
    return JSON.stringify({
      jsonrpc: '2.0',
      id: request.id,
      result: { ...(result as object), [key]: kept },
    });
  }

  /** Error bodies are downstream content: the client gets a summary, the trace a hash. */
  #sanitizedError(request: RpcRequest, response: RpcResponse): string {
    const error = response.error as { code: number; message: string };
    this.#recordAnswer(request, response.message.error, true);
    const standard = error.code >= -32700 && error.code <= -32600;
    const where = responseKind(request.method) === null ? '' : ' (hash in the trace)';
    return errorLine(
      request.id,
      standard ? error.code : RPC.downstreamError,
      `downstream ${request.method} failed (error ${error.code}); its message was withheld by AgentK${where}`,
    );
  }

  /** Record an answer for the families that have response syscalls. */
  #recordAnswer(request: RpcRequest, content: unknown, isError: boolean): void {
    const kind = responseKind(request.method);
    if (kind === null) return;
    const name =
      typeof request.params?.name === 'string'
        ? request.params.name
        : typeof request.params?.uri === 'string'
          ? request.params.uri
          : request.method;
    this.kernel.syscall({
      kind,
      target: this.#target(name),
      content: content ?? null,
      isError,
    });
  }

  /** The client's request timed out downstream: answer it, and record it for tools. */
  timeout(request: RpcRequest, ms: number): string {
    this.#recordAnswer(request, { agentk_timeout_ms: ms }, true);
    return errorLine(
      request.id,
      RPC.timeout,
      `downstream server did not answer ${request.method} within ${ms} ms`,
    );
  }

  /**
   * A request from the server to the client: mediated before the client (and its user or
   * model) sees it, and forwarded under `relayId` (the id the proxy gives it towards the
   * client), re-serialised from what was mediated. `clientCapabilities` are what the
   * client declared at initialize.
   */
  serverRequest(
    request: RpcRequest,
    clientCapabilities: Record<string, unknown>,
    relayId: JsonRpcId = request.id,
  ): Outcome {
    const refuse = (code: number, message: string): Outcome => ({
      action: 'reply',
      line: errorLine(request.id, code, message),
    });
    const forward = (params: unknown = request.params): Outcome => ({
      action: 'forward',
      line: rebuild({ ...request.message, id: relayId, params }, MEMBERS.request),
    });
    switch (request.method) {
      case 'ping':
        // A ping carries nothing: anything in its params would be an unmediated channel.
        return forward(undefined);
      case 'sampling/createMessage': {
        if (!isRecord(clientCapabilities.sampling))
          return refuse(RPC.methodNotFound, 'the client did not declare sampling');
        // The model's answer goes back to the server unmediated, so the server may not have
        // the client add the session's context to the call (`thisServer`, `allServers`):
        // that would be a channel for everything the agent has read. The MCP spec lets a
        // client ignore the request; AgentK makes it `none`.
        const params = request.params ?? {};
        const widened = params.includeContext !== undefined && params.includeContext !== 'none';
        const result = this.kernel.syscall({
          kind: 'model.call',
          target: this.#target('sampling/createMessage'),
          prompt: JSON.stringify(params),
          labels: ['untrusted'],
          intent: widened
            ? `a server asks the client to run its model (its includeContext ${JSON.stringify(String(params.includeContext).slice(0, 32))} becomes "none")`
            : 'a server asks the client to run its model',
        });
        if (!result.allowed) return refuse(RPC.denied, denialText(result));
        return widened ? forward({ ...params, includeContext: 'none' }) : forward();
      }
      case 'elicitation/create': {
        if (!isRecord(clientCapabilities.elicitation)) {
          return refuse(RPC.methodNotFound, 'the client did not declare elicitation');
        }
        // What reaches the client's user is headed to the client: credentials become
        // handles first, as in answers and notifications.
        const target = this.#target('elicitation/create');
        const { content: question } = this.kernel.captureSecrets(request.params ?? {}, target);
        const result = this.kernel.syscall({
          kind: 'human.approve',
          target,
          question,
          intent: 'a server asks the user a question',
        });
        return result.allowed ? forward(question) : refuse(RPC.denied, denialText(result));
      }
      case 'roots/list': {
        if (!isRecord(clientCapabilities.roots))
          return refuse(RPC.methodNotFound, 'the client did not declare roots');
        const result = this.kernel.syscall({
          kind: 'resource.read',
          target: this.#target('roots/list'),
          intent: "a server asks for the client's roots",
        });
        if (result.allowed) this.kernel.redeem(result.receipt?.id ?? '');
        return result.allowed ? forward() : refuse(RPC.denied, denialText(result));
      }
      default:
        return refuse(
          RPC.methodNotFound,
          `method ${JSON.stringify(request.method.slice(0, 64))} is not mediated by AgentK`,
        );
    }
  }
}
