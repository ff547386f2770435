// MCP messages as kernel syscalls. This is the policy half of the proxy, with no I/O: it
// turns a client request into a syscall and either the line to forward or the answer to
// give, and turns a server's answer into the line the client sees. Labels come from the
// kernel; client metadata only adds restrictions and is stripped before forwarding.
// Clean traffic is forwarded as the exact bytes received when they are the compact form
// of what was mediated (else re-serialised); members JSON-RPC does not define are dropped.
// Input distrusted: both peers.

import { fileURLToPath } from 'node:url';
import { replaceHandles } from '../../evidence/receipts.js';
import { mapStrings } from '../../kernel/content.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallRequest, SyscallResult } from '../../kernel/types.js';
import {
  errorLine,
  type JsonRpcId,
  MEMBERS,
  RPC,
  type RpcRequest,
  type RpcResponse,
  rebuild,
  resultLine,
} from '../jsonrpc.js';
import { type ClientMetadata, stripAgentkMetadata } from '../metadata.js';
import {
  approvalQuestion,
  declinedResult,
  denialReport,
  errorDenialLine,
  toolDenialLine,
} from './denials.js';
import { Excerpts } from './excerpts.js';
import { initializeResult } from './initialize.js';
import {
  ANSWER_LISTS,
  type AnswerTarget,
  answerOf,
  answerProblem,
  INVOKING,
  type Invocation,
  invocationOf,
} from './invocations.js';
import { isListing, type ListingJob, Listings } from './listings.js';
import {
  isPlainProgressToken,
  isRecord,
  LOG_LEVELS,
  type Outcome,
  PARAM_MEMBERS,
  responseKind,
} from './methods.js';
import { mediateServerNotification, Subscriptions } from './notifications.js';
import { mediateServerRequest } from './server-requests.js';
import { TASK_METHODS, Tasks, taskParam, withoutClientTasks } from './tasks.js';

export class McpMediator {
  readonly kernel: Kernel;
  readonly serverId: string;
  readonly #listings: Listings;
  /** Recent pages' text, quoted in questions to a person. */
  readonly #excerpts = new Excerpts();
  /** The resource URIs the client subscribed to: the updates it may hear of. */
  readonly #subscriptions = new Subscriptions();
  /** The tasks created through this session (tasks.ts). */
  readonly #tasks: Tasks;

  readonly #onDenial: ((line: string) => void) | undefined;

  constructor(kernel: Kernel, serverId: string, onDenial?: (line: string) => void) {
    this.kernel = kernel;
    this.serverId = serverId;
    this.#onDenial = onDenial;
    this.#listings = new Listings(kernel, serverId);
    const remember = (page: string, content: unknown) => this.#excerpts.remember(page, content);
    this.#tasks = new Tasks({ kernel, serverId, remember });
  }

  #target(name: string): string {
    return `${this.serverId}/${name}`;
  }

  /**
   * A client request (already past lifecycle checks): forward it, under `forwardId` (the
   * id the proxy gives it downstream) and re-serialised from what was mediated, or answer
   * it here. Invocations carry their syscall result.
   */
  clientRequest(request: RpcRequest, canAsk = false, forwardId: JsonRpcId = request.id): Outcome {
    const { params, metadata } = stripAgentkMetadata(request.params);
    const permitted = this.#permittedParams(request.method, params);
    if (typeof permitted === 'string') return invalidParams(request.id, permitted);
    // What the kernel saw, nothing more: AgentK metadata stripped, and for mediated methods
    // only their permitted members (none at all if the client sent no params).
    const forwarded =
      permitted === undefined || (params === undefined && Object.keys(permitted).length === 0)
        ? params
        : permitted;
    if (metadata.problem !== undefined) {
      return {
        action: 'reply',
        line: errorLine(
          request.id,
          RPC.badMetadata,
          `invalid AgentK metadata: ${metadata.problem}`,
        ),
      };
    }
    if (request.method === 'logging/setLevel') {
      // No data flows: only a severity, rebuilt so that nothing else rides along.
      const level = params?.level;
      if (typeof level !== 'string' || !LOG_LEVELS.has(level)) {
        return invalidParams(
          request.id,
          'logging/setLevel needs params.level, an RFC 5424 severity',
        );
      }
      const line = rebuild(
        { jsonrpc: '2.0', id: forwardId, method: 'logging/setLevel', params: { level } },
        MEMBERS.request,
      );
      return { action: 'forward', line };
    }
    const forward = (sent: unknown) =>
      rebuild({ ...request.message, id: forwardId, params: sent }, MEMBERS.request);
    // What the client can do decides what some servers list (catalogue pins take it in).
    if (request.method === 'initialize') {
      const sent = withoutClientTasks(params);
      this.kernel.listings.declareClient(this.serverId, sent?.capabilities);
      return { action: 'forward', line: forward(sent) };
    }
    if (TASK_METHODS.has(request.method)) {
      return this.#tasks.request(request.id, request.method, permitted ?? {}, forward);
    }
    if (request.method === 'tools/call' && permitted?.task !== undefined) {
      const task = this.#tasks.offered ? taskParam(permitted.task) : 'tasks are not offered';
      if (typeof task === 'string') return invalidParams(request.id, task);
      permitted.task = task;
    }
    if (request.method === 'resources/unsubscribe') return this.#unsubscribe(request, forward);
    // initialize, ping and the list methods are mediated on the way back.
    if (!INVOKING.has(request.method)) return { action: 'forward', line: forward(forwarded) };
    const invocation = invocationOf(request.method, params, permitted ?? {});
    if (typeof invocation === 'string') return invalidParams(request.id, invocation);
    if (request.method === 'resources/subscribe') {
      if (!this.#subscriptions.room(invocation.name)) {
        return invalidParams(request.id, 'too many resource subscriptions in this session');
      }
      const outcome = this.#invoke(request, invocation, metadata, canAsk, forward);
      // Updates may come before the answer: the client hears of them once it is sent.
      if (outcome.action === 'forward') this.#subscriptions.add(invocation.name);
      return outcome;
    }
    return this.#invoke(request, invocation, metadata, canAsk, forward);
  }

  /**
   * resources/unsubscribe names a URI the client subscribed to (decided then): it goes on
   * with nothing else, and that URI's updates stop here at once. Any other is refused.
   */
  #unsubscribe(request: RpcRequest, forward: (sent: unknown) => string): Outcome {
    const uri = request.params?.uri;
    if (typeof uri !== 'string' || !this.#subscriptions.has(uri)) {
      return invalidParams(request.id, 'resources/unsubscribe needs the uri of a subscription');
    }
    this.#subscriptions.delete(uri);
    return { action: 'forward', line: forward({ uri }) };
  }

  /**
   * tools/call, resources/read and subscribe, prompts/get, completion/complete: a syscall
   * before anything is forwarded.
   */
  #invoke(
    request: RpcRequest,
    invocation: Invocation,
    metadata: ClientMetadata,
    canAsk: boolean,
    forward: (sent: unknown) => string,
  ): Outcome {
    const id = request.id;
    const { kind, name, args, intent, params: permitted } = invocation;
    const result = this.#syscall(
      { kind, target: this.#target(name), args, ...(intent !== undefined ? { intent } : {}) },
      metadata,
      canAsk,
    );
    if (result.verdict === 'ask') return { action: 'ask', line: '', syscall: result };
    if (!result.allowed || !this.kernel.redeem(result.receipt?.id ?? '')) {
      return { action: 'reply', line: this.#denial(request, result), syscall: result };
    }
    // Secret handles in the arguments become their values, for this allowed sink only.
    const handles = result.event.syscall.inputs
      .filter((input) => input.ref.startsWith('handle:'))
      .map((input) => input.ref.slice('handle:'.length));
    if (handles.length === 0 || !invocation.reveals)
      return { action: 'forward', line: forward(permitted), syscall: result };
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
    const substituted = mapStrings(args, (text) =>
      replaceHandles(text, (match) => values.get(match) ?? match),
    );
    return {
      action: 'forward',
      line: forward({ ...permitted, arguments: substituted }),
      syscall: result,
    };
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
    if (out.cursor !== undefined) {
      const cursor = typeof out.cursor === 'string' ? out.cursor : '';
      const issued =
        method === 'tasks/list'
          ? this.#tasks.issued(cursor)
          : this.#listings.serverCursor(method, cursor);
      if (issued === undefined) {
        return `${method} params.cursor was not issued by the server in this session`;
      }
      out.cursor = issued;
    }
    const meta = params?._meta;
    const token = isRecord(meta) ? meta.progressToken : undefined;
    if (isPlainProgressToken(token)) out._meta = { progressToken: token };
    return out;
  }

  /** The elicitation/create params that put an `ask` to the client's user. */
  approvalQuestion(asked: SyscallResult, request?: RpcRequest): Record<string, unknown> {
    const args = request ? this.#invocation(request)?.args : undefined;
    return approvalQuestion(
      asked,
      args,
      (id) => this.kernel.page(id),
      (page, arg) => this.#excerpts.around(page, arg, args),
    );
  }

  /** The invocation a forwarded (or asked) request made; null for other methods. */
  #invocation(request: RpcRequest): Invocation | null {
    if (!INVOKING.has(request.method)) return null;
    const { params } = stripAgentkMetadata(request.params);
    const permitted = this.#permittedParams(request.method, params);
    const invocation = invocationOf(
      request.method,
      params,
      typeof permitted === 'object' ? permitted : {},
    );
    return typeof invocation === 'string' ? null : invocation;
  }

  /** The answer to a request a person declined (or did not answer). */
  declined(request: RpcRequest, asked: SyscallResult, why: string): string {
    return this.#denial(request, declinedResult(asked, why));
  }

  /** A denied request, as its method calls for: a tool result, or error -32003. */
  #denial(request: RpcRequest, result: SyscallResult): string {
    this.#onDenial?.(denialReport(result, (id) => this.kernel.page(id)));
    // A task-augmented call is owed a task, not a tool result: its denial is an error.
    if (request.method !== 'tools/call' || isRecord(request.params?.task)) {
      return errorDenialLine(request.id, result);
    }
    const name = String(request.params?.name ?? '');
    return toolDenialLine(request.id, result, this.#listings.hasSchema(name));
  }

  /**
   * The client's answer to roots/list: the directories its user works in are structure to
   * the kernel (a path below one, shown by the server, is the workspace's own).
   */
  clientRoots(result: unknown): void {
    const roots = isRecord(result) && Array.isArray(result.roots) ? result.roots : [];
    const paths: string[] = [];
    for (const root of roots.slice(0, 64)) {
      const uri = isRecord(root) ? root.uri : undefined;
      if (typeof uri !== 'string' || !uri.startsWith('file://')) continue;
      try {
        paths.push(fileURLToPath(uri));
      } catch {
        // not a local path: not a root
      }
    }
    if (paths.length > 0) this.kernel.declareRoots(paths);
  }

  /**
   * A listing answer of more than `longer` entries, as a job that describes them a slice at
   * a time (ListingJob); null for any other answer, which serverResponse() gives at once.
   */
  longListing(request: RpcRequest, response: RpcResponse, longer: number): ListingJob | null {
    if (response.error || !isListing(request.method)) return null;
    if (Listings.entries(request.method, response.result) <= longer) return null;
    const rawLine = () => rebuild({ ...response.message, id: request.id }, MEMBERS.response);
    const job = this.#listings.start(request, response.result, rawLine);
    return typeof job === 'string' ? null : job;
  }

  /**
   * A server's answer to a forwarded client request: the line the client receives, under
   * the client's own id, re-serialised from what was mediated.
   */
  serverResponse(request: RpcRequest, response: RpcResponse): string {
    const { method, id } = request;
    if (method === 'tasks/result') {
      // The deferred answer of a tool: mediated exactly as that tool's answer.
      const name = this.#tasks.toolOf(request.params?.taskId);
      if (name === undefined) return errorLine(id, RPC.internalError, 'task not tracked; withheld');
      return this.serverResponse({ ...request, method: 'tools/call', params: { name } }, response);
    }
    // The answer as received, under the client's id (serialised only if it goes as it is).
    const rawLine = () => rebuild({ ...response.message, id }, MEMBERS.response);
    if (response.error) {
      // A subscription the server refused brings no updates: none are expected.
      const uri = request.params?.uri;
      if (method === 'resources/subscribe' && typeof uri === 'string')
        this.#subscriptions.delete(uri);
      return this.#sanitizedError(request, response);
    }
    const result = response.result;
    const bad = (what: string) => {
      this.#recordAnswer(request, result ?? null, true);
      return errorLine(
        id,
        RPC.badResponse,
        `downstream server returned a malformed ${method} result (${what})`,
      );
    };
    if (isListing(method)) return this.#listings.answer(request, result, rawLine);
    if (method === 'tools/call' && isRecord(request.params?.task) && isRecord(result)) {
      if (result.task !== undefined) return this.#tasks.created(request, result, bad);
    }
    if (ANSWER_LISTS[method] !== undefined) return this.#answer(request, result, rawLine, bad);
    switch (method) {
      case 'initialize':
        this.#tasks.declareServer(result);
        return initializeResult(this.kernel, this.#target('initialize'), id, result, rawLine, bad);
      case 'ping':
      case 'logging/setLevel':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        // Empty results by contract: anything inside would be an unmediated channel.
        if (!isRecord(result)) return bad('not an object');
        return Object.keys(result).length === 0 ? rawLine() : resultLine(id, {});
      case 'tasks/get':
      case 'tasks/cancel':
        return this.#tasks.status(request, result, bad);
      case 'tasks/list':
        return this.#tasks.list(request, result, bad);
      default:
        return errorLine(id, RPC.internalError, 'no mediation for this method');
    }
  }

  /**
   * A tool's result, a resource's contents or a prompt headed to the client: credential
   * material is first replaced by secret handles (each a secret.open syscall), then the
   * answer is a response syscall (one walk of the answer for both).
   */
  #answer(
    request: RpcRequest,
    result: unknown,
    rawLine: () => string,
    bad: (what: string) => string,
  ): string {
    const list = ANSWER_LISTS[request.method] as string;
    const problem = answerProblem(request.method, result, list);
    const target = answerOf(request.method, request.params);
    if (problem !== null || !isRecord(result) || target === null) {
      return bad(problem ?? 'unexpected');
    }
    const { kind, name } = target;
    const answered = this.kernel.answer({
      kind,
      target: this.#target(name),
      content: result,
      ...(kind === 'tool.response' && result.isError === true ? { isError: true } : {}),
    });
    if (!answered.result.allowed) return this.#denial(request, answered.result);
    if (answered.result.page) this.#excerpts.remember(answered.result.page.id, answered.content);
    return answered.content === result ? rawLine() : resultLine(request.id, answered.content);
  }

  /**
   * A server notification headed to the client (notifications.ts): the line to send, or
   * null to drop it. `rawLine` is the text received ('' if the proxy rebuilt it).
   */
  serverNotification(message: Record<string, unknown>, rawLine: string): string | null {
    return mediateServerNotification(
      {
        kernel: this.kernel,
        serverId: this.serverId,
        subscriptions: this.#subscriptions,
        tasks: this.#tasks,
        remember: (page, content) => this.#excerpts.remember(page, content),
      },
      message,
      rawLine,
    );
  }

  /** Error bodies are downstream content: the client gets a summary, the trace a hash. */
  #sanitizedError(request: RpcRequest, response: RpcResponse): string {
    const error = response.error as { code: number; message: string };
    this.#recordAnswer(request, response.message.error, true);
    const standard = error.code >= -32700 && error.code <= -32600;
    const where = this.#answerTarget(request) === null ? '' : ' (hash in the trace)';
    return errorLine(
      request.id,
      standard ? error.code : RPC.downstreamError,
      `downstream ${request.method} failed (error ${error.code}); its message was withheld by AgentK${where}`,
    );
  }

  /** Record an answer for the families that have response syscalls. */
  #recordAnswer(request: RpcRequest, content: unknown, isError: boolean): void {
    const answer = this.#answerTarget(request);
    if (answer === null) return;
    this.kernel.syscall({
      kind: answer.kind,
      target: this.#target(answer.name),
      content: content ?? null,
      isError,
    });
  }

  /** The response syscall an answer to `request` is recorded as (null: none). */
  #answerTarget(request: RpcRequest): AnswerTarget | null {
    const answer = answerOf(request.method, request.params);
    if (answer !== null) return answer;
    const kind = responseKind(request.method);
    if (kind === null) return null;
    const { name, uri } = request.params ?? {};
    return {
      kind,
      name: typeof name === 'string' ? name : typeof uri === 'string' ? uri : request.method,
    };
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
    return mediateServerRequest(this.kernel, this.serverId, request, clientCapabilities, relayId);
  }
}

function invalidParams(id: JsonRpcId, message: string): Outcome {
  return { action: 'reply', line: errorLine(id, RPC.invalidParams, message) };
}
