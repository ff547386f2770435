// JSON-RPC 2.0 messages as MCP uses them over stdio: one message per line, no batches.
// Every line from a peer is classified here before anything else looks at it; whatever
// does not classify gets a standard error (or is dropped, for a peer that cannot be
// answered). Error codes sent to peers are wire errors, kept apart from local errors.
// Input distrusted: every line from the client and from the server.

import { holdsInexactNumber, nestedDeeperThan } from '../depth.js';

export type JsonRpcId = string | number;

export const MAX_ID_LENGTH = 256;
/** Messages nested deeper than this are refused before anything walks them. */
export const MAX_DEPTH = 64;

/** Wire error codes. -32700..-32600 are JSON-RPC's; -32001..-32009 are AgentK's (docs/mcp-proxy.md). */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  timeout: -32001,
  notInitialized: -32002,
  denied: -32003,
  transportClosed: -32004,
  badResponse: -32005,
  downstreamError: -32006,
  tooLarge: -32007,
  unsupportedVersion: -32008,
  badMetadata: -32009,
} as const;

export interface RpcRequest {
  readonly kind: 'request';
  readonly id: JsonRpcId;
  readonly method: string;
  readonly params: Record<string, unknown> | undefined;
  readonly message: Record<string, unknown>;
}

export interface RpcNotification {
  readonly kind: 'notification';
  readonly method: string;
  readonly params: Record<string, unknown> | undefined;
  readonly message: Record<string, unknown>;
}

export interface RpcResponse {
  readonly kind: 'response';
  readonly id: JsonRpcId;
  readonly result: unknown;
  readonly error:
    | { readonly code: number; readonly message: string; readonly data?: unknown }
    | undefined;
  readonly message: Record<string, unknown>;
}

export interface RpcInvalid {
  readonly kind: 'invalid';
  readonly code: number;
  readonly reason: string;
  /** The id, if one could be read, so the error can be addressed. */
  readonly id: JsonRpcId | null;
  /** It named a method: with an id, a request that is owed an error answer. */
  readonly call: boolean;
}

export type RpcMessage = RpcRequest | RpcNotification | RpcResponse | RpcInvalid;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isValidId(id: unknown): id is JsonRpcId {
  if (typeof id === 'string') return id.length <= MAX_ID_LENGTH;
  return typeof id === 'number' && Number.isSafeInteger(id);
}

/** A map key that keeps `1` and `"1"` apart. */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

function invalid(
  code: number,
  reason: string,
  id: JsonRpcId | null = null,
  call = false,
): RpcInvalid {
  return { kind: 'invalid', code, reason, id, call };
}

/** Whether a parsed value names a method (a request or a notification). */
const namesMethod = (value: unknown): boolean => isRecord(value) && 'method' in value;

/** Why a message with an integer beyond 2^53 is refused (the same words both ways). */
export const INEXACT_NUMBER =
  'Invalid params: a number beyond 2^53 would be rounded in transit; send it as a string';

/** Classify one line. Never throws. */
export function parseMessage(line: string): RpcMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return invalid(RPC.parseError, 'Parse error: not valid JSON');
  }
  if (nestedDeeperThan(value, MAX_DEPTH)) {
    const id = isRecord(value) ? value.id : null;
    return invalid(
      RPC.invalidRequest,
      `Invalid Request: nested deeper than ${MAX_DEPTH} levels`,
      isValidId(id) ? id : null,
      namesMethod(value),
    );
  }
  if (Array.isArray(value)) {
    return invalid(RPC.invalidRequest, 'Invalid Request: batches are not supported');
  }
  if (holdsInexactNumber(line, value)) {
    // Rounded, a message id of one object would name another (a delete hits the wrong
    // message): refused, never passed on changed.
    const id = isRecord(value) ? value.id : null;
    return invalid(
      RPC.invalidParams,
      INEXACT_NUMBER,
      isValidId(id) ? id : null,
      namesMethod(value),
    );
  }
  if (!isRecord(value) || value.jsonrpc !== '2.0') {
    return invalid(RPC.invalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message');
  }
  const hasId = 'id' in value && value.id !== undefined;
  if (hasId && !isValidId(value.id)) {
    return invalid(
      RPC.invalidRequest,
      `Invalid Request: id must be a string of at most ${MAX_ID_LENGTH} characters or a safe integer`,
    );
  }
  const id = hasId ? (value.id as JsonRpcId) : null;
  return 'method' in value ? classifyCall(value, id) : classifyResponse(value, id);
}

/** A message with a method: a request (with an id) or a notification. */
function classifyCall(value: Record<string, unknown>, id: JsonRpcId | null): RpcMessage {
  if (typeof value.method !== 'string' || value.method.length === 0 || value.method.length > 256) {
    return invalid(RPC.invalidRequest, 'Invalid Request: method must be a short string', id, true);
  }
  if (value.params !== undefined && !isRecord(value.params)) {
    return invalid(RPC.invalidRequest, 'Invalid Request: params must be an object', id, true);
  }
  const params = value.params as Record<string, unknown> | undefined;
  if (id === null) return { kind: 'notification', method: value.method, params, message: value };
  return { kind: 'request', id, method: value.method, params, message: value };
}

/** A message without a method: a response, with a result or an error. */
function classifyResponse(value: Record<string, unknown>, id: JsonRpcId | null): RpcMessage {
  if (id === null) return invalid(RPC.invalidRequest, 'Invalid Request: a response needs an id');
  if ('error' in value) {
    const error = value.error;
    if (
      !isRecord(error) ||
      !Number.isSafeInteger(error.code) ||
      typeof error.message !== 'string' ||
      'result' in value
    ) {
      return invalid(RPC.invalidRequest, 'Invalid Request: malformed error response', id);
    }
    return {
      kind: 'response',
      id,
      result: undefined,
      error: {
        code: error.code as number,
        message: error.message,
        ...('data' in error ? { data: error.data } : {}),
      },
      message: value,
    };
  }
  if (!('result' in value)) {
    return invalid(
      RPC.invalidRequest,
      'Invalid Request: a response needs a result or an error',
      id,
    );
  }
  return { kind: 'response', id, result: value.result, error: undefined, message: value };
}

/** The members each kind of message may carry; anything else is dropped on the way through. */
export const MEMBERS = {
  request: ['jsonrpc', 'id', 'method', 'params'],
  notification: ['jsonrpc', 'method', 'params'],
  response: ['jsonrpc', 'id', 'result', 'error'],
} as const;

/** True when a message carries top-level members beyond the ones JSON-RPC defines. */
export function hasExtraMembers(
  message: Record<string, unknown>,
  members: readonly string[],
): boolean {
  return Object.keys(message).some((key) => !members.includes(key));
}

/** The message with only the named members, in that order: nothing else goes on. */
export function rebuild(message: Record<string, unknown>, members: readonly string[]): string {
  const out: Record<string, unknown> = {};
  for (const member of members) if (message[member] !== undefined) out[member] = message[member];
  return JSON.stringify(out);
}

/**
 * The line to forward: as received when it is exactly the serialisation of what AgentK
 * parsed and mediated (compact JSON, as MCP SDKs write it), otherwise re-serialised from
 * the parsed message, so that a peer reading the bytes differently (a duplicate key whose
 * first value JSON.parse discarded) cannot see anything AgentK did not. Members JSON-RPC
 * does not define are dropped.
 */
export function cleanLine(
  message: Record<string, unknown>,
  rawLine: string,
  members: readonly string[],
): string {
  if (hasExtraMembers(message, members)) return rebuild(message, members);
  const serialised = JSON.stringify(message);
  return serialised === rawLine ? rawLine : serialised;
}

export function errorLine(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: unknown,
): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    error: { code, message, ...(data !== undefined ? { data } : {}) },
  });
}

export function resultLine(id: JsonRpcId, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result });
}
