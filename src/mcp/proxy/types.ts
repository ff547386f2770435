// The proxy session's contract with its transports (the two channels a transport gives a
// session), its options, and what it reports when it ends.

import type { Kernel } from '../../kernel/kernel.js';
import type { SealEvent } from '../../recorder/event.js';

export const DEFAULT_RESPONSE_TIMEOUT_MS = 30_000;
/** How long a request that keeps reporting progress may run in all. */
export const DEFAULT_MAX_REQUEST_MS = 30 * 60_000;
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;

/** The server side, as the transport carries it. */
export interface ServerChannel {
  /** Whether a message can be written to the server now. */
  readonly writable: boolean;
  /**
   * Write one message. A refusal (the proxy's own answer to a server request) may be
   * dropped when the server does not read: 'dropped'. 'closed' when it cannot be written.
   */
  send(line: string, refusal: boolean): 'sent' | 'dropped' | 'closed';
  /** The client is gone and nothing is in flight: end the server's input, then stop it. */
  shutdown(): void;
  /** Stop the server now. */
  terminate(): void;
}

/**
 * The transport's way to run work that is not a chunk of its input (a later slice of a
 * listing, what waited for a sync) as it runs a chunk: what the work sends is held until
 * the trace events it records are written together (StdioProxy). Without one, the work
 * runs as it is, and each event is written before its line.
 */
export type Batched = (work: () => void) => void;

/** The client side, as the transport carries it. */
export interface ClientChannel {
  send(line: string): void;
  /** The session is over: stop reading the client and end what it reads. */
  close(): void;
}

export interface SessionOptions {
  readonly kernel: Kernel;
  readonly serverId: string;
  /** How long a request may go without an answer or progress (default 30 s). */
  readonly responseTimeoutMs?: number;
  /** How long a request that keeps reporting progress may take in all (default 30 min). */
  readonly maxRequestMs?: number;
  /** The transport starts the server: initialize waits for its start too (pending.ts). */
  readonly startsServer?: boolean;
  readonly maxMessageBytes?: number;
  /**
   * Group commit: hold every message until the trace events before it are fsynced (the
   * kernel's trace must use `group` durability). Off: events are written, not fsynced.
   */
  readonly durable?: boolean;
  /**
   * One client request at a time: later messages wait until the earlier request is
   * answered. For replaying scripted transcripts, whose later requests were written
   * knowing earlier answers; live clients should not need it.
   */
  readonly serialize?: boolean;
  /** How long a person has to answer an approval request (default five minutes). */
  readonly approvalTimeoutMs?: number;
  /** Told one line per denied request (for a person watching stderr). */
  readonly onDenial?: (line: string) => void;
  /** Server notifications: burst size and sustained rate per second. */
  readonly notificationBurst?: number;
  readonly notificationsPerSecond?: number;
}

export interface ProxyStats {
  clientRequests: number;
  forwarded: number;
  answeredByProxy: number;
  timeouts: number;
  notificationsForwarded: number;
  notificationsDropped: number;
  malformedFromServer: number;
  unmatchedFromServer: number;
  refusalsDropped: number;
  faults: number;
}

export interface ProxyExit {
  /**
   * 0: the client closed the session; 1: the server exited or broke the pipe first, or
   * with requests unanswered; 2: it never started.
   */
  readonly code: 0 | 1 | 2;
  readonly reason: string;
  readonly seal: SealEvent | null;
  readonly stats: ProxyStats;
}

export function newStats(): ProxyStats {
  return {
    clientRequests: 0,
    forwarded: 0,
    answeredByProxy: 0,
    timeouts: 0,
    notificationsForwarded: 0,
    notificationsDropped: 0,
    malformedFromServer: 0,
    unmatchedFromServer: 0,
    refusalsDropped: 0,
    faults: 0,
  };
}

/** Where a session is: initialize sent, answered, and the client's initialized notice. */
export type Lifecycle = 'fresh' | 'initializing' | 'initialized' | 'ready';

/** Requests in flight one way at most (client requests, or server requests relayed). */
export const MAX_IN_FLIGHT = 4096;

/** What a fault is called in an answer (its class name, never its message). */
export function faultName(error: unknown): string {
  return error instanceof Error ? error.name : 'error';
}
