// Approvals: an `ask` decision waits, by the hash of its exact request, for a person's
// answer (an approver callback, an MCP elicitation, or a signed `agentk approve` file read
// through `approvalSource`). An approval allows that exact request once.
// Input distrusted: answers (recorded as human.approve syscalls before they count).

import type { PendingAsk } from '../analysis/analysis.js';
import type { ApprovalAnswer } from '../types.js';

/** A person's approval, waiting to be spent by the request it names. */
export interface Grant {
  readonly approver: string;
  readonly step: number;
}

export class Approvals {
  readonly #pending = new Map<string, PendingAsk>();
  readonly #granted = new Map<string, Grant>();
  readonly #source: ((requestHash: string) => ApprovalAnswer | null) | undefined;

  constructor(source: ((requestHash: string) => ApprovalAnswer | null) | undefined) {
    this.#source = source;
  }

  pendingAsk(requestHash: string): PendingAsk | undefined {
    return this.#pending.get(requestHash);
  }

  /**
   * A request was asked about. Kept even when it was denied for want of an approver: a
   * person can still answer it out of band, then the agent retries.
   */
  asked(requestHash: string, ask: PendingAsk): void {
    this.#pending.set(requestHash, ask);
  }

  /** A human.approve syscall was allowed: the ask is answered, and granted if approved. */
  answered(
    requestHash: string,
    approved: boolean,
    approver: string | undefined,
    step: number,
  ): void {
    const pending = this.#pending.get(requestHash);
    this.#pending.delete(requestHash);
    if (pending && approved && approver !== undefined) {
      this.#granted.set(requestHash, { approver, step });
    }
  }

  /**
   * Spend the approval of this exact request, if a person gave one. For a request asked
   * before, an answer given out of band is looked for first, and recorded (`record`, a
   * human.approve syscall) before it counts.
   */
  take(requestHash: string, record: (answer: ApprovalAnswer) => void): Grant | undefined {
    let grant = this.#granted.get(requestHash);
    if (!grant && this.#pending.has(requestHash) && this.#source) {
      const answer = this.#source(requestHash);
      if (answer) {
        record(answer);
        grant = this.#granted.get(requestHash);
      }
    }
    if (grant) this.#granted.delete(requestHash);
    return grant;
  }
}
