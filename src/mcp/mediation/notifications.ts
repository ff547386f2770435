// Server notifications headed to the client, and the resource subscriptions that decide
// which updates it may hear of. A log message is server output like a tool's answer: a
// response syscall (labelled, scanned, credentials made handles, a context page), dropped
// if denied. A resource update only names a URI: it goes on for a URI the client
// subscribed to, with nothing else in it, and is dropped for any other. A task's status
// goes on only for a task created through this session (tasks.ts). The rest carry
// no free text of the server's but progress messages, whose credentials become handles.
// Input distrusted: the server's notifications.

import type { Kernel } from '../../kernel/kernel.js';
import { cleanLine, MEMBERS, rebuild } from '../jsonrpc.js';
import { isRecord, LOG_LEVELS } from './methods.js';
import type { Tasks } from './tasks.js';

/** Subscriptions the proxy remembers at most; past that, subscribing is refused. */
export const MAX_SUBSCRIPTIONS = 4096;

/** The resource URIs the client subscribed to (through the proxy) in this session. */
export class Subscriptions {
  readonly #uris = new Set<string>();

  has(uri: string): boolean {
    return this.#uris.has(uri);
  }

  /** False when the set is full (the request is then refused, not forwarded). */
  room(uri: string): boolean {
    return this.#uris.has(uri) || this.#uris.size < MAX_SUBSCRIPTIONS;
  }

  add(uri: string): void {
    if (this.room(uri)) this.#uris.add(uri);
  }

  delete(uri: string): void {
    this.#uris.delete(uri);
  }
}

/** What mediating a server notification needs of the mediator. */
export interface NotificationContext {
  readonly kernel: Kernel;
  readonly serverId: string;
  readonly subscriptions: Subscriptions;
  /** The tasks created through this session: only their status is heard of. */
  readonly tasks: Tasks;
  /** A page entered the context: its text may be quoted in an approval question. */
  remember(page: string, content: unknown): void;
}

/**
 * A server notification headed to the client: the line to send, or null to drop it.
 * `rawLine` is the text received ('' when the message was rebuilt by the proxy).
 */
export function mediateServerNotification(
  context: NotificationContext,
  message: Record<string, unknown>,
  rawLine: string,
): string | null {
  const params = message.params;
  switch (message.method) {
    case 'notifications/resources/updated': {
      const uri = isRecord(params) ? params.uri : undefined;
      if (typeof uri !== 'string' || !context.subscriptions.has(uri)) return null;
      return rebuild({ ...message, params: { uri } }, MEMBERS.notification);
    }
    case 'notifications/message':
      return logMessage(context, message, rawLine);
    case 'notifications/tasks/status': {
      const task = context.tasks.notification(params);
      return task === null ? null : rebuild({ ...message, params: task }, MEMBERS.notification);
    }
    default: {
      if (!isRecord(params)) return cleanLine(message, rawLine, MEMBERS.notification);
      const target = `${context.serverId}/${String(message.method)}`;
      const { content } = context.kernel.captureSecrets(params, target);
      return content === params
        ? cleanLine(message, rawLine, MEMBERS.notification)
        : rebuild({ ...message, params: content }, MEMBERS.notification);
    }
  }
}

/**
 * A log message reaches the client, and may reach its model: it is the tool.response of
 * `<server>/logging`, decided and recorded like a tool's answer (named so that the
 * kernel's name heuristics do not take a server's log for the user's messages).
 */
function logMessage(
  context: NotificationContext,
  message: Record<string, unknown>,
  rawLine: string,
): string | null {
  const params = message.params;
  if (!isRecord(params) || typeof params.level !== 'string' || !LOG_LEVELS.has(params.level)) {
    return null; // not a log message MCP defines
  }
  const answered = context.kernel.answer({
    kind: 'tool.response',
    target: `${context.serverId}/logging`,
    content: params,
    intent: 'a log message from the server',
  });
  if (!answered.result.allowed) return null;
  if (answered.result.page) context.remember(answered.result.page.id, answered.content);
  return answered.content === params
    ? cleanLine(message, rawLine, MEMBERS.notification)
    : rebuild({ ...message, params: answered.content }, MEMBERS.notification);
}
