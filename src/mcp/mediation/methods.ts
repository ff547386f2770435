// What the proxy mediates, method by method: which client requests and notifications go
// to the server, which server requests and notifications go to the client, which params
// members MCP defines for each (nothing else is forwarded), and the protocol versions
// AgentK speaks. A method that is not listed here has no policy contract: it is refused
// and never forwarded (protection-model.md, rule 5).

import type { SyscallResult } from '../../kernel/types.js';

/** Client methods the proxy mediates; any other is refused and never forwarded. */
export const CLIENT_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);

/** RFC 5424 severities, the only thing logging/setLevel may carry. */
export const LOG_LEVELS = new Set([
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
  'notifications/tasks/status',
]);

/** Server -> client requests the proxy mediates. */
export const SERVER_METHODS = new Set([
  'ping',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
]);

/**
 * The server's capabilities as the client may see them: only what the proxy mediates
 * (tools, resources and prompts with their list-changed notifications, resource
 * subscriptions, completions, logging, and tasks for tools/call with their listing and
 * cancelling). A capability it would refuse (experimental ones, tasks for anything but
 * tools/call) is withheld rather than advertised and then refused.
 */
export function mediatedCapabilities(
  capabilities: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['tools', 'resources', 'prompts'] as const) {
    const given = capabilities[key];
    if (!isRecord(given)) continue;
    const { listChanged, subscribe } = given;
    out[key] = {
      ...(typeof listChanged === 'boolean' ? { listChanged } : {}),
      ...(key === 'resources' && typeof subscribe === 'boolean' ? { subscribe } : {}),
    };
  }
  for (const key of ['completions', 'logging'] as const) {
    if (isRecord(capabilities[key])) out[key] = {};
  }
  const tasks = offeredTasks(capabilities);
  if (tasks !== null) out.tasks = tasks;
  return out;
}

/** What the server offers of tasks, as the proxy mediates them (null: none). */
export function offeredTasks(capabilities: unknown): Record<string, unknown> | null {
  const tasks = isRecord(capabilities) ? capabilities.tasks : undefined;
  if (!isRecord(tasks) || !isRecord(tasks.requests)) return null;
  const tools = tasks.requests.tools;
  if (!isRecord(tools) || !isRecord(tools.call)) return null;
  return {
    ...(isRecord(tasks.list) ? { list: {} } : {}),
    ...(isRecord(tasks.cancel) ? { cancel: {} } : {}),
    requests: { tools: { call: {} } },
  };
}

export const SUPPORTED_PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];

export type InvocationKind = 'tool.invoke' | 'resource.read' | 'prompt.get';

/** The params members MCP defines for each client request the proxy forwards. */
export const PARAM_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  ping: [],
  'tools/list': ['cursor'],
  'resources/list': ['cursor'],
  'resources/templates/list': ['cursor'],
  'prompts/list': ['cursor'],
  'tools/call': ['name', 'arguments', 'task'],
  'resources/read': ['uri'],
  'resources/subscribe': ['uri'],
  'resources/unsubscribe': ['uri'],
  'prompts/get': ['name', 'arguments'],
  'completion/complete': ['ref', 'argument', 'context'],
  'tasks/get': ['taskId'],
  'tasks/result': ['taskId'],
  'tasks/cancel': ['taskId'],
  'tasks/list': ['cursor'],
};

/**
 * A progress token of a plain shape: an integer (as the MCP SDKs send it), or a short
 * plain id (which can still carry a few bytes; docs/mcp-proxy.md says so).
 */
const PROGRESS_TOKEN = /^[\w.:-]{1,64}$/;
export function isPlainProgressToken(token: unknown): token is string | number {
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

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The MCP family of a method, for recording its answer as a syscall. */
export function responseKind(
  method: string,
): 'tool.response' | 'resource.response' | 'prompt.response' | null {
  if (method.startsWith('tools/')) return 'tool.response';
  if (method.startsWith('resources/')) return 'resource.response';
  if (method.startsWith('prompts/')) return 'prompt.response';
  return null;
}

/** What mediating a request gives the proxy to do. */
export interface Outcome {
  /** forward to the peer, reply to the sender, or ask the client's user first. */
  readonly action: 'forward' | 'reply' | 'ask';
  readonly line: string;
  /** The kernel's decision, for requests that are syscalls before they are forwarded. */
  readonly syscall?: SyscallResult;
}
