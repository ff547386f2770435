// Whether the session takes a client request at all, before any mediation: a method with
// a policy contract, an id not already in flight, room in flight, the lifecycle in the
// right place (initialize once, then nothing but ping until the client is ready), and a
// server to take it. The refusal is a JSON-RPC error the client can act on.

import { RPC, type RpcRequest } from '../jsonrpc.js';
import { CLIENT_METHODS } from '../mediation/methods.js';
import { type Lifecycle, MAX_IN_FLIGHT } from './types.js';

/** What the decision needs of the session. */
export interface AdmissionFacts {
  readonly state: Lifecycle;
  /** The request's id is already in flight (forwarded, or waiting on a person). */
  readonly taken: boolean;
  /** Client requests in flight, forwarded or waiting on a person. */
  readonly inFlight: number;
  readonly serverAlive: boolean;
}

/** Why a client request is refused before mediation, or null. */
export function admissionRefusal(
  request: RpcRequest,
  facts: AdmissionFacts,
): { code: number; message: string } | null {
  const { method } = request;
  if (!CLIENT_METHODS.has(method)) {
    return {
      code: RPC.methodNotFound,
      message: `method ${JSON.stringify(method.slice(0, 64))} has no AgentK policy contract; refused, not forwarded`,
    };
  }
  if (facts.taken) {
    return { code: RPC.invalidRequest, message: 'Invalid Request: this id is already in flight' };
  }
  if (facts.inFlight >= MAX_IN_FLIGHT) {
    return {
      code: RPC.invalidRequest,
      message: `too many requests in flight (limit ${MAX_IN_FLIGHT})`,
    };
  }
  if (method === 'initialize' && facts.state !== 'fresh') {
    return { code: RPC.invalidRequest, message: 'the session is already initialized' };
  }
  if (method !== 'initialize' && method !== 'ping' && facts.state !== 'ready') {
    return {
      code: RPC.notInitialized,
      message: 'session not initialized: send initialize, then notifications/initialized',
    };
  }
  if (!facts.serverAlive) {
    return { code: RPC.transportClosed, message: 'the downstream server is not running' };
  }
  return null;
}

/** The capabilities a client declares in its initialize request ({} where malformed). */
export function capabilitiesOf(request: RpcRequest): Record<string, unknown> {
  const capabilities = request.params?.capabilities;
  return typeof capabilities === 'object' && capabilities !== null && !Array.isArray(capabilities)
    ? (capabilities as Record<string, unknown>)
    : {};
}

/** Whether the client can put a question to its user (MCP elicitation). */
export function canElicit(capabilities: Record<string, unknown>): boolean {
  return typeof capabilities.elicitation === 'object' && capabilities.elicitation !== null;
}
