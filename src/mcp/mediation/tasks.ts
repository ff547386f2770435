// MCP tasks (2025-11-25) as the proxy mediates them. A task-augmented tools/call is decided
// like any tools/call (mediator.ts); its immediate answer is the task's metadata, which is
// validated, cut to the members MCP defines and remembered with the tool it runs. Only
// tasks created through this session can be asked about: tasks/get, tasks/cancel and
// tasks/result for any other task id are refused and never forwarded, tasks/list shows
// only this session's tasks, and status notifications for other tasks are dropped. A
// task's `statusMessage` is the server's text headed to the client: the tool.response of
// `<server>/tasks`, decided and recorded like a log message (credentials made handles, the
// session labelled), withheld if denied. The deferred result (tasks/result) is mediated by
// the mediator as the answer of the tool the task runs.
// A task id is server text that reaches the client unmediated on every status: one the
// secret scanner flags is malformed (the CreateTaskResult is refused), so only ids
// accepted at creation are ever shown. A tasks/list answer lists each task once, and
// mediates at most MAX_LIST_MESSAGES new status messages (the rest are listed without
// theirs); its nextCursor has credentials made handles, as a catalogue listing's.
// Tasks the server would create on the client (task-augmented sampling or elicitation)
// are not mediated: the client's `tasks` capability is withheld from the server.
// Input distrusted: both peers.

import type { Kernel } from '../../kernel/kernel.js';
import { containsSecret } from '../../provenance/detect.js';
import { errorLine, type JsonRpcId, RPC, type RpcRequest, resultLine } from '../jsonrpc.js';
import { isRecord, type Outcome, offeredTasks } from './methods.js';

/** The task methods a client may send (when the server offers task-augmented tools/call). */
export const TASK_METHODS = new Set(['tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel']);

/** Tasks remembered per session at most; past that, the oldest is forgotten. */
export const MAX_TASKS = 1024;
/** Task-list cursors remembered per session at most. */
const MAX_CURSORS = 256;
/** A task id or a list cursor of a plain shape (a few bytes at most, no prose). */
const TASK_ID = /^[\w.:-]{1,128}$/;
const CURSOR = /^[\w.:=+/-]{1,512}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const STATUSES = new Set(['working', 'input_required', 'completed', 'failed', 'cancelled']);
/** The longest task lifetime or poll interval a client may ask for, or a server give (ms). */
const MAX_MS = 366 * 24 * 3600 * 1000;
const MAX_STATUS_MESSAGE = 4096;
/**
 * New status messages mediated (each a kernel answer) per tasks/list answer at most: past
 * that, the list's other tasks are listed without their status message.
 */
export const MAX_LIST_MESSAGES = 64;

/** A task's metadata, cut to the members MCP defines. */
export interface Task {
  readonly taskId: string;
  readonly status: string;
  readonly ttl: number | null;
  readonly createdAt: string;
  readonly lastUpdatedAt: string;
  readonly pollInterval?: number;
  readonly statusMessage?: string;
}

function isMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_MS;
}

/** The `task` member of a tools/call, rebuilt (a requested ttl at most); a string: what is wrong. */
export function taskParam(value: unknown): Record<string, number> | string {
  if (!isRecord(value)) return 'tools/call params.task must be an object';
  if (value.ttl === undefined) return {};
  if (!isMs(value.ttl)) return 'tools/call params.task.ttl must be a whole number of milliseconds';
  return { ttl: value.ttl };
}

/** A task's metadata from the server, cut to what MCP defines; null if it is malformed. */
export function taskOf(value: unknown): Task | null {
  if (!isRecord(value)) return null;
  const { taskId, status, ttl, createdAt, lastUpdatedAt, pollInterval, statusMessage } = value;
  // A credential-shaped id would reach the client raw on every status: malformed.
  if (typeof taskId !== 'string' || !TASK_ID.test(taskId) || containsSecret(taskId)) return null;
  if (typeof status !== 'string' || !STATUSES.has(status)) return null;
  if (ttl !== null && !isMs(ttl)) return null;
  if (typeof createdAt !== 'string' || !TIMESTAMP.test(createdAt)) return null;
  if (typeof lastUpdatedAt !== 'string' || !TIMESTAMP.test(lastUpdatedAt)) return null;
  if (pollInterval !== undefined && !isMs(pollInterval)) return null;
  if (statusMessage !== undefined && typeof statusMessage !== 'string') return null;
  return {
    taskId,
    status,
    ttl,
    createdAt,
    lastUpdatedAt,
    ...(pollInterval !== undefined ? { pollInterval } : {}),
    ...(statusMessage !== undefined
      ? { statusMessage: statusMessage.slice(0, MAX_STATUS_MESSAGE) }
      : {}),
  };
}

/** A task created through this session. */
interface Known {
  /** The tool the task runs (without the server id): its result is that tool's answer. */
  readonly tool: string;
  /** The last status message mediated, as received and as the client saw it. */
  said?: { readonly raw: string; readonly shown: string | undefined };
}

/** What task mediation needs of the mediator. */
export interface TaskContext {
  readonly kernel: Kernel;
  readonly serverId: string;
  /** A page entered the context: its text may be quoted in an approval question. */
  remember(page: string, content: unknown): void;
}

export class Tasks {
  readonly #context: TaskContext;
  readonly #known = new Map<string, Known>();
  /** A tasks/list cursor as the client was shown it (a handle if it held a credential) -> the server's. */
  readonly #cursors = new Map<string, string>();
  /** What the server offered at initialize (null: no task-augmented tools/call). */
  #offered: Record<string, unknown> | null = null;

  constructor(context: TaskContext) {
    this.#context = context;
  }

  /** The server's initialize result: what it offers of tasks. */
  declareServer(result: unknown): void {
    this.#offered = offeredTasks(isRecord(result) ? result.capabilities : undefined);
  }

  /** Whether a tools/call may carry `task` (the server offers it). */
  get offered(): boolean {
    return this.#offered !== null;
  }

  /** A cursor the server issued in a tasks/list answer of this session. */
  issued(cursor: string): string | undefined {
    return this.#cursors.get(cursor);
  }

  /** The tool a task of this session runs. */
  toolOf(taskId: unknown): string | undefined {
    return typeof taskId === 'string' ? this.#known.get(taskId)?.tool : undefined;
  }

  /**
   * A tasks/* request from the client (params already cut to their members): forwarded
   * only for a task this session created, and tasks/list or tasks/cancel only if offered.
   */
  request(
    id: JsonRpcId,
    method: string,
    permitted: Record<string, unknown>,
    forward: (sent: unknown) => string,
  ): Outcome {
    const refuse = (code: number, message: string): Outcome => ({
      action: 'reply',
      line: errorLine(id, code, message),
    });
    const offered = this.#offered;
    const member = method.slice('tasks/'.length);
    if (
      offered === null ||
      ((member === 'list' || member === 'cancel') && !isRecord(offered[member]))
    ) {
      return refuse(RPC.methodNotFound, `${method} is not offered through the AgentK proxy`);
    }
    if (method === 'tasks/list') return { action: 'forward', line: forward(permitted) };
    if (this.toolOf(permitted.taskId) === undefined) {
      return refuse(
        RPC.invalidParams,
        `${method} params.taskId names no task created in this session; refused, not forwarded`,
      );
    }
    return { action: 'forward', line: forward({ taskId: permitted.taskId }) };
  }

  /** The answer to a task-augmented tools/call: the task's metadata, remembered. */
  created(
    request: RpcRequest,
    result: Record<string, unknown>,
    bad: (what: string) => string,
  ): string {
    const task = taskOf(result.task);
    const tool = request.params?.name;
    if (task === null || typeof tool !== 'string') return bad('not a CreateTaskResult');
    const known = this.#known.get(task.taskId);
    if (known !== undefined && known.tool !== tool) return bad('a task id already in use');
    this.#known.delete(task.taskId);
    this.#known.set(task.taskId, { tool });
    while (this.#known.size > MAX_TASKS) {
      const oldest = this.#known.keys().next().value as string;
      this.#known.delete(oldest);
    }
    const answered = this.#context.kernel.answer({
      kind: 'tool.response',
      target: `${this.#context.serverId}/tasks`,
      content: task,
      intent: `task ${task.taskId} created to run ${tool}`,
    });
    // Only the status message is taken from the mediated answer: the id stays as accepted.
    const said = (answered.content as { statusMessage?: unknown }).statusMessage;
    const shown =
      answered.result.allowed && typeof said === 'string'
        ? { ...task, statusMessage: said }
        : withoutMessage(task);
    if (answered.result.page) this.#context.remember(answered.result.page.id, answered.content);
    this.#remember(task, shown);
    return resultLine(request.id, { task: shown });
  }

  /** The answer to tasks/get or tasks/cancel: the task's metadata, mediated. */
  status(request: RpcRequest, result: unknown, bad: (what: string) => string): string {
    const task = taskOf(result);
    if (task === null) return bad('not a task');
    if (task.taskId !== request.params?.taskId) return bad('another task');
    return resultLine(request.id, this.#shown(task));
  }

  /**
   * The answer to tasks/list: this session's tasks only, each once (its first entry),
   * mediated; past MAX_LIST_MESSAGES new status messages, the rest are dropped.
   */
  list(request: RpcRequest, result: unknown, bad: (what: string) => string): string {
    if (!isRecord(result) || !Array.isArray(result.tasks)) return bad('no tasks list');
    const tasks: Task[] = [];
    const listed = new Set<string>();
    let mediated = 0;
    for (const entry of result.tasks.slice(0, MAX_TASKS * 4)) {
      const task = taskOf(entry);
      if (task === null || !this.#known.has(task.taskId) || listed.has(task.taskId)) continue;
      listed.add(task.taskId);
      const fresh = this.#isNew(task);
      if (fresh && mediated >= MAX_LIST_MESSAGES) tasks.push(withoutMessage(task));
      else tasks.push(this.#shown(task));
      if (fresh) mediated++;
    }
    const shown = this.#cursor(result.nextCursor);
    return resultLine(request.id, { tasks, ...(shown !== undefined ? { nextCursor: shown } : {}) });
  }

  /**
   * A tasks/list nextCursor as the client sees it: of a plain shape, credentials in it
   * made handles (as a catalogue listing's), remembered under what the client was shown.
   */
  #cursor(nextCursor: unknown): string | undefined {
    if (typeof nextCursor !== 'string' || !CURSOR.test(nextCursor)) return undefined;
    const { content } = this.#context.kernel.captureSecrets(
      { nextCursor },
      `${this.#context.serverId}/tasks/list`,
    );
    const shown = (content as { nextCursor?: unknown }).nextCursor;
    if (typeof shown !== 'string') return undefined;
    if (!this.#cursors.has(shown) && this.#cursors.size < MAX_CURSORS) {
      this.#cursors.set(shown, nextCursor);
    }
    return this.#cursors.get(shown) === nextCursor ? shown : undefined;
  }

  /** Whether a task carries a status message not mediated before (a kernel answer). */
  #isNew(task: Task): boolean {
    const raw = task.statusMessage;
    const known = this.#known.get(task.taskId);
    return raw !== undefined && known !== undefined && known.said?.raw !== raw;
  }

  /** notifications/tasks/status: its params for a task of this session, mediated; else null. */
  notification(params: unknown): Task | null {
    const task = taskOf(params);
    return task !== null && this.#known.has(task.taskId) ? this.#shown(task) : null;
  }

  /**
   * A task as the client sees it: a status message not seen before is the tool.response
   * of `<server>/tasks` (credentials made handles, the session labelled, a context page),
   * withheld if denied; the same message again is shown as it was then.
   */
  #shown(task: Task): Task {
    const known = this.#known.get(task.taskId);
    const raw = task.statusMessage;
    if (raw === undefined || known === undefined) return task;
    if (known.said?.raw === raw) {
      const again = known.said.shown;
      return again === undefined ? withoutMessage(task) : { ...task, statusMessage: again };
    }
    const answered = this.#context.kernel.answer({
      kind: 'tool.response',
      target: `${this.#context.serverId}/tasks`,
      content: { statusMessage: raw },
      intent: `the status of task ${task.taskId}, which runs ${known.tool}`,
    });
    const said = answered.content as { statusMessage?: unknown };
    const shown =
      answered.result.allowed && typeof said.statusMessage === 'string'
        ? { ...task, statusMessage: said.statusMessage }
        : withoutMessage(task);
    if (answered.result.page) this.#context.remember(answered.result.page.id, answered.content);
    this.#remember(task, shown);
    return shown;
  }

  #remember(task: Task, shown: Task): void {
    const known = this.#known.get(task.taskId);
    if (known === undefined || task.statusMessage === undefined) return;
    known.said = { raw: task.statusMessage, shown: shown.statusMessage };
  }
}

function withoutMessage(task: Task): Task {
  const { statusMessage: _withheld, ...rest } = task;
  return rest;
}

/**
 * The client's initialize params as the server gets them: without the client's `tasks`
 * capability, so that the server creates no tasks on the client (not mediated).
 */
export function withoutClientTasks(
  params: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const capabilities = params?.capabilities;
  if (!isRecord(capabilities) || capabilities.tasks === undefined) return params;
  const { tasks: _withheld, ...rest } = capabilities;
  return { ...params, capabilities: rest };
}
