// Approvals: an `ask` decision waits, by the hash of its exact request, for a person's
// answer (an approver callback, an MCP elicitation, or a signed `agentk approve` file read
// through `approvalSource`). An approval allows that exact request once; a person may
// instead grant it for the session: then every request of the same kind, to the same
// target, by the same agent, whose control arguments carry the same values, asked by the
// same rule with the same sinks in the same session state (grantScope), is allowed
// without a question until the grant expires. Content arguments may differ
// ("allow writes to src/x.js", "allow mail to bob@example.com").
// Input distrusted: answers (recorded as human.approve syscalls before they count).

import { sha256Hex } from '../../crypto/index.js';
import type { PendingAsk } from '../analysis/analysis.js';
import type { ApprovalAnswer, HumanApproveRequest } from '../types.js';

/** How long a session grant holds at most (a proxy session usually ends sooner). */
export const SESSION_GRANT_TTL_MS = 60 * 60 * 1000;
/** Session grants held at once, at most (the oldest goes first). */
const MAX_SESSION_GRANTS = 1024;

/** A person's approval, waiting to be spent by the request it names. */
export interface Grant {
  readonly approver: string;
  readonly step: number;
  /** A session grant (not spent by use), rather than an approval of one request. */
  readonly session?: true;
}

/** What a session grant is bound to. */
export interface GrantSubject {
  readonly kind: string;
  readonly target: string;
  readonly agent: string;
  /** The rule that asked: a grant given for one reason is no answer to another. */
  readonly rule: string;
  /** The sink classes (a patch that now deletes a file is not the patch approved). */
  readonly sinks: number;
  /** Whether the session was compromised when asked (becoming so voids the grant). */
  readonly compromised: boolean;
  /** `<argument>=<sha256>` of each control argument, in any order. */
  readonly controlRefs: readonly string[];
}

/** The key a session grant is kept under: every part of GrantSubject. */
export function grantScope(subject: GrantSubject): string {
  return sha256Hex(
    [
      subject.kind,
      subject.target,
      subject.agent,
      subject.rule,
      String(subject.sinks),
      subject.compromised ? 'compromised' : 'clean',
      ...[...subject.controlRefs].sort(),
    ].join('\n'),
  );
}

export class Approvals {
  readonly #pending = new Map<string, PendingAsk>();
  readonly #granted = new Map<string, Grant>();
  readonly #sessions = new Map<string, Grant & { readonly expiresAt: number }>();
  readonly #source: ((requestHash: string) => ApprovalAnswer | null) | undefined;

  readonly #command: (requestHash: string) => string;

  constructor(
    source: ((requestHash: string) => ApprovalAnswer | null) | undefined,
    command: ((requestHash: string) => string) | undefined = undefined,
  ) {
    this.#source = source;
    this.#command = command ?? ((hash) => `agentk approve ${hash}`);
  }

  /** The command a person runs to approve `requestHash` out of band. */
  command(requestHash: string): string {
    return this.#command(requestHash);
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

  /**
   * A human.approve syscall was allowed: the ask is answered, and granted if approved
   * (for the session too, when the answer says so). Returns the agent that was asked.
   */
  answered(
    request: HumanApproveRequest,
    place: { readonly step: number; readonly now: number },
  ): string | undefined {
    // A question for a person (no approver) answers nothing, whatever its target.
    if (request.approver === undefined) return undefined;
    const pending = this.#pending.get(request.target);
    this.#pending.delete(request.target);
    if (!pending || request.approved !== true) {
      return pending?.agent;
    }
    const grant = { approver: request.approver, step: place.step };
    this.#granted.set(request.target, grant);
    if (request.scope !== 'session') return pending.agent;
    this.#sessions.delete(pending.scope);
    this.#sessions.set(pending.scope, {
      ...grant,
      session: true,
      expiresAt: place.now + SESSION_GRANT_TTL_MS,
    });
    if (this.#sessions.size > MAX_SESSION_GRANTS) {
      this.#sessions.delete(this.#sessions.keys().next().value as string);
    }
    return pending.agent;
  }

  /**
   * Spend the approval of this exact request, if a person gave one. For a request asked
   * before, an answer given out of band is looked for first, and recorded (`record`, a
   * human.approve syscall) before it counts. Failing those, a session grant covering
   * `scope` that has not expired at `now` (not spent: it holds for the session).
   */
  take(
    requestHash: string,
    record: (answer: ApprovalAnswer) => void,
    scope: string,
    now: number,
  ): Grant | undefined {
    let grant = this.#granted.get(requestHash);
    if (!grant && this.#pending.has(requestHash) && this.#source) {
      const answer = this.#source(requestHash);
      if (answer) {
        record(answer);
        grant = this.#granted.get(requestHash);
      }
    }
    if (grant) {
      this.#granted.delete(requestHash);
      return grant;
    }
    const session = this.#sessions.get(scope);
    if (session === undefined) return undefined;
    if (now <= session.expiresAt) return session;
    this.#sessions.delete(scope);
    return undefined;
  }
}
