// Approval holds: when the policy asks a person, the client request waits while the
// question goes to the client's user (MCP elicitation); the answer is recorded as a
// human.approve syscall bound to the request hash, and an approved request is mediated
// again (the approval now on record), never asked again. Bounded in number and size, and
// timed out: nobody answering is a refusal.
// Input distrusted: the client's answers.

import { randomHex } from '../../crypto/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { SyscallResult } from '../../kernel/types.js';
import { errorLine, parseMessage, RPC, type RpcRequest, type RpcResponse } from '../jsonrpc.js';
import type { McpMediator } from '../mediation/mediator.js';
import type { SessionOutput } from './output.js';
import { slim } from './pending.js';
import { faultName, type ProxyStats } from './types.js';

/** Characters of requests waiting on a person's approval at most (they are kept whole). */
const MAX_ASK_BYTES = 64 * 1024 * 1024;

/** A client request waiting for a person's approval. */
export interface Ask {
  readonly request: RpcRequest;
  /** The client's id of the request (idKey): taken while it waits. */
  readonly key: string;
  readonly asked: SyscallResult;
  /** The request as received, parsed again if it is approved. */
  readonly text: string;
  readonly timer: NodeJS.Timeout;
}

/** Requests put to the client's user, by the id of the question (elicitation) asked. */
class ApprovalHolds {
  readonly #asks = new Map<string, Ask>();
  readonly #keys = new Set<string>();
  #bytes = 0;

  get size(): number {
    return this.#asks.size;
  }

  has(askId: string): boolean {
    return this.#asks.has(askId);
  }

  /** Whether a client request id is waiting on a person's answer. */
  holdsKey(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Whether a request of this many characters may wait too. */
  fits(characters: number): boolean {
    return this.#bytes + characters <= MAX_ASK_BYTES;
  }

  hold(askId: string, ask: Ask): void {
    this.#asks.set(askId, ask);
    this.#keys.add(ask.key);
    this.#bytes += ask.text.length;
  }

  /** Stop waiting on an approval; returns what was waiting, if anything. */
  take(askId: string): Ask | null {
    const ask = this.#asks.get(askId);
    if (!ask) return null;
    clearTimeout(ask.timer);
    this.#asks.delete(askId);
    this.#keys.delete(ask.key);
    this.#bytes -= ask.text.length;
    return ask;
  }

  /** The client cancelled a request while its approval was being asked: ask no more. */
  takeKey(key: string): void {
    for (const [askId, ask] of this.#asks) if (ask.key === key) this.take(askId);
  }

  values(): IterableIterator<Ask> {
    return this.#asks.values();
  }

  clear(): void {
    for (const ask of this.#asks.values()) clearTimeout(ask.timer);
    this.#asks.clear();
    this.#keys.clear();
    this.#bytes = 0;
  }
}

/** What the approval flow may see and do of the session it belongs to. */
export interface ApprovalPort {
  readonly stats: ProxyStats;
  readonly kernel: Kernel;
  readonly mediator: McpMediator;
  readonly output: SessionOutput;
  readonly timeoutMs: number;
  /** Whether an approved request can still be forwarded (the session and server live). */
  canForward(): boolean;
  /** Mediate an approved request again, under the client key it held. */
  resume(request: RpcRequest, key: string): void;
  /** Stop tracking a client request (by key). */
  untrack(key: string): void;
}

export class ApprovalFlow {
  readonly holds = new ApprovalHolds();
  readonly #session: ApprovalPort;

  constructor(session: ApprovalPort) {
    this.#session = session;
  }

  /**
   * The policy asks a person: put the question to the client's user (MCP elicitation),
   * and hold the request until the answer comes (or the time is up); declined at once when
   * too many already wait.
   */
  ask(request: RpcRequest, key: string, asked: SyscallResult, text: string): void {
    const { output, mediator } = this.#session;
    if (!this.holds.fits(text.length)) {
      output.reply(mediator.declined(request, asked, 'too many requests are waiting for approval'));
      return;
    }
    const askId = `agentk-ask-${randomHex(12)}`;
    const question = JSON.stringify({
      jsonrpc: '2.0',
      id: askId,
      method: 'elicitation/create',
      params: mediator.approvalQuestion(asked, request),
    });
    // Sent first: if sending fails, nothing is left waiting (the fault answers the request).
    output.toClient(question);
    const timer = setTimeout(() => {
      if (!this.holds.take(askId)) return;
      output.reply(
        mediator.declined(request, asked, 'nobody answered the approval request in time'),
      );
    }, this.#session.timeoutMs);
    // Only the request's text is kept (what the cap counts); it is parsed again if approved.
    this.holds.hold(askId, { request: slim(request), key, asked, text, timer });
  }

  /** The client's user answered the question `askId`. */
  answered(askId: string, message: RpcResponse): void {
    const ask = this.holds.take(askId);
    if (!ask) return;
    try {
      this.#carryOut(ask, message);
    } catch (error) {
      // The question is gone: the request it held must still be answered.
      this.#session.stats.faults += 1;
      this.#session.untrack(ask.key);
      this.#session.output.reply(
        errorLine(
          ask.request.id,
          RPC.internalError,
          `AgentK could not carry out the approval (${faultName(error)}); refused`,
        ),
      );
    }
  }

  #carryOut(ask: Ask, message: RpcResponse): void {
    const { kernel, mediator, output } = this.#session;
    const result = message.result as
      | { action?: unknown; content?: { approve?: unknown; scope?: unknown; clear?: unknown } }
      | undefined;
    const approved = result?.action === 'accept' && result.content?.approve === true;
    const action = typeof result?.action === 'string' ? result.action.slice(0, 20) : 'error';
    kernel.approve(ask.asked.requestHash, {
      approver: 'mcp-client-user',
      approved,
      note: `elicitation ${action}`,
      ...(approved && result?.content?.scope === 'session' ? { scope: 'session' as const } : {}),
      ...(approved && result?.content?.clear === true ? { clearCompromised: true } : {}),
    });
    if (!approved) {
      output.reply(mediator.declined(ask.request, ask.asked, `the user answered ${action}`));
      return;
    }
    if (!this.#session.canForward()) {
      output.reply(
        errorLine(ask.request.id, RPC.transportClosed, 'the downstream server is not running'),
      );
      return;
    }
    // The same text as asked about, so the same request: mediated again (the approval is
    // now on record for its hash), never asked again.
    const request = parseMessage(ask.text);
    if (request.kind !== 'request') throw new TypeError('an approved request no longer parses');
    this.#session.resume(request, ask.key);
  }
}
