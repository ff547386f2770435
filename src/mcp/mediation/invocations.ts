// Client requests that are syscalls before they reach the server, read from their params:
// which syscall (tool.invoke, resource.read, prompt.get), on which target, with which
// arguments for policy and value provenance, and the params that go on to the server.
// tools/call, resources/read and prompts/get are what they say; resources/subscribe reads
// a resource (its updates will name it); completion/complete sends a partial argument
// value to a prompt or a resource template, which is the call it completes.
// Input distrusted: the client's params.

import { type InvocationKind, isRecord } from './methods.js';

/** A client request as the syscall it is. */
export interface Invocation {
  readonly kind: InvocationKind;
  /** The target without the server id: a tool or prompt name, a resource URI or template. */
  readonly name: string;
  /** What the kernel judges: every value that goes to the server. */
  readonly args: Record<string, unknown>;
  /** Why, when the method says more than the kind (kept in the trace). */
  readonly intent?: string;
  /** The params that go to the server (the permitted members, rebuilt). */
  readonly params: Record<string, unknown>;
  /** Secret handles in `params.arguments` are swapped for their values once allowed. */
  readonly reveals: boolean;
}

/** The methods that are syscalls before they are forwarded. */
export const INVOKING = new Set([
  'tools/call',
  'resources/read',
  'prompts/get',
  'resources/subscribe',
  'completion/complete',
]);

const MAX_NAME = 256;
const MAX_URI = 4096;
/** completion/complete: at most this many earlier arguments in its context. */
const MAX_CONTEXT_ARGUMENTS = 64;

/**
 * The invocation a request makes, from its params (AgentK metadata stripped) and the
 * members permitted for its method; a string says what is wrong with the params.
 */
export function invocationOf(
  method: string,
  params: Record<string, unknown> | undefined,
  permitted: Record<string, unknown>,
): Invocation | string {
  switch (method) {
    case 'tools/call':
    case 'prompts/get': {
      const name = params?.name;
      if (!isName(name, MAX_NAME)) return `${method} needs params.name`;
      const args = params?.arguments ?? {};
      if (!isRecord(args)) return `${method} params.arguments must be an object`;
      const kind = method === 'tools/call' ? 'tool.invoke' : 'prompt.get';
      return { kind, name, args, params: permitted, reveals: true };
    }
    case 'resources/read':
    case 'resources/subscribe': {
      const uri = params?.uri;
      if (!isName(uri, MAX_URI)) return `${method} needs params.uri`;
      return {
        kind: 'resource.read',
        name: uri,
        args: { uri },
        ...(method === 'resources/subscribe' ? { intent: 'subscribe to its updates' } : {}),
        params: permitted,
        reveals: false,
      };
    }
    case 'completion/complete':
      return completionOf(params, permitted);
    default:
      return `${method} is not an invocation`;
  }
}

/**
 * completion/complete: the partial value (and the arguments already chosen) go to the
 * prompt or resource template named by `ref`, as its prompt.get or resource.read would.
 * The value being completed stands for its argument: an earlier value of the same name is
 * not sent, so that what the kernel judged is exactly what the server gets.
 */
function completionOf(
  params: Record<string, unknown> | undefined,
  permitted: Record<string, unknown>,
): Invocation | string {
  const ref = params?.ref;
  const argument = params?.argument;
  if (!isRecord(ref) || !isRecord(argument)) {
    return 'completion/complete needs params.ref and params.argument';
  }
  const { name: argName, value } = argument;
  if (!isName(argName, MAX_NAME) || typeof value !== 'string') {
    return 'completion/complete params.argument needs a name and a string value';
  }
  const context = params?.context;
  const given = isRecord(context) ? context.arguments : undefined;
  if ((context !== undefined && !isRecord(context)) || (given !== undefined && !isRecord(given))) {
    return 'completion/complete params.context.arguments must be an object';
  }
  const chosen = Object.entries(given ?? {}).filter(([key]) => key !== argName);
  if (chosen.some(([, earlierValue]) => typeof earlierValue !== 'string')) {
    return 'completion/complete params.context.arguments must map names to strings';
  }
  // fromEntries defines own members: a `__proto__` key is data, not a prototype.
  const earlier = Object.fromEntries(chosen) as Record<string, string>;
  if (Object.keys(earlier).length > MAX_CONTEXT_ARGUMENTS) {
    return `completion/complete params.context.arguments has more than ${MAX_CONTEXT_ARGUMENTS} entries`;
  }
  const intent = `complete the argument ${argName}`;
  const values = Object.fromEntries([...chosen, [argName, value]]) as Record<string, string>;
  const sent = (reference: Record<string, unknown>) => ({
    ref: reference,
    argument: { name: argName, value },
    ...(Object.keys(earlier).length > 0 ? { context: { arguments: earlier } } : {}),
    ...(permitted._meta !== undefined ? { _meta: permitted._meta } : {}),
  });
  if (ref.type === 'ref/prompt' && isName(ref.name, MAX_NAME)) {
    const params = sent({ type: 'ref/prompt', name: ref.name });
    return { kind: 'prompt.get', name: ref.name, args: values, intent, params, reveals: false };
  }
  if (ref.type === 'ref/resource' && isName(ref.uri, MAX_URI)) {
    return {
      kind: 'resource.read',
      name: ref.uri,
      args: { uri: ref.uri, arguments: values },
      intent,
      params: sent({ type: 'ref/resource', uri: ref.uri }),
      reveals: false,
    };
  }
  return 'completion/complete params.ref must be a ref/prompt with a name or a ref/resource with a uri';
}

function isName(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength;
}

/** The response syscall an answer is recorded as, and what it names. */
export interface AnswerTarget {
  readonly kind: 'tool.response' | 'resource.response' | 'prompt.response';
  readonly name: string;
}

/**
 * The response syscall that answers an invocation, from the params a pending request
 * keeps (pending.ts: its name, uri, or completion ref); null for other methods.
 */
export function answerOf(
  method: string,
  params: Record<string, unknown> | undefined,
): AnswerTarget | null {
  const { name, uri, ref } = params ?? {};
  switch (method) {
    case 'tools/call':
      return typeof name === 'string' ? { kind: 'tool.response', name } : null;
    case 'prompts/get':
      return typeof name === 'string' ? { kind: 'prompt.response', name } : null;
    case 'resources/read':
    case 'resources/subscribe':
      return typeof uri === 'string' ? { kind: 'resource.response', name: uri } : null;
    case 'completion/complete':
      if (!isRecord(ref)) return null;
      if (ref.type === 'ref/prompt' && typeof ref.name === 'string') {
        return { kind: 'prompt.response', name: ref.name };
      }
      if (ref.type === 'ref/resource' && typeof ref.uri === 'string') {
        return { kind: 'resource.response', name: ref.uri };
      }
      return null;
    default:
      return null;
  }
}

/** The reference a pending completion keeps (only what names its target). */
export function slimRef(ref: unknown): Record<string, string> | undefined {
  if (!isRecord(ref)) return undefined;
  const out: Record<string, string> = {};
  for (const key of ['type', 'name', 'uri']) {
    const value = ref[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

/** Where the content of an answer to an invocation is, by method. */
export const ANSWER_LISTS: Readonly<Record<string, string>> = {
  'tools/call': 'content',
  'resources/read': 'contents',
  'prompts/get': 'messages',
  'completion/complete': 'completion',
};

/** What is wrong with the shape of an answer to an invocation (null: nothing). */
export function answerProblem(method: string, result: unknown, list: string): string | null {
  if (!isRecord(result)) return 'not an object';
  if (method !== 'completion/complete') {
    return Array.isArray(result[list]) ? null : `no ${list} list`;
  }
  const completion = result.completion;
  const values = isRecord(completion) ? completion.values : undefined;
  if (!Array.isArray(values) || values.length > 100) return 'no completion.values of at most 100';
  return values.every((value) => typeof value === 'string') ? null : 'a value is not a string';
}
