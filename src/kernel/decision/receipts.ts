// Live capability receipts: what redeeming one needs (the record itself is in the log,
// covered by a signed checkpoint). A receipt is spent once, before its effect, and only while it lives; the book is
// bounded, and a receipt pruned from it can no longer be redeemed (fail closed).

import type { SinkMask } from '../../vocabulary.js';
import type { RevealingReceipt } from '../secrets/vault.js';

/** Live receipts kept for redemption; beyond, the expired and then the oldest go. */
const MAX_LIVE_RECEIPTS = 65_536;
const NO_HANDLES: readonly string[] = [];

export interface IssuedReceipt extends RevealingReceipt {
  spent: boolean;
}

export class ReceiptBook {
  readonly #receipts = new Map<string, IssuedReceipt>();

  /** A receipt was minted for an allowed syscall (its event is on record). */
  issue(
    id: string,
    receipt: { scope: string; expiresAt: number; sinks: SinkMask; handles: readonly string[] },
    now: number,
  ): void {
    this.#receipts.set(id, {
      scope: receipt.scope,
      expiresAt: receipt.expiresAt,
      sinks: receipt.sinks,
      handles: receipt.handles.length > 0 ? receipt.handles : NO_HANDLES,
      spent: false,
      revealed: null,
    });
    if (this.#receipts.size > MAX_LIVE_RECEIPTS) this.#prune(now);
  }

  get(id: string): IssuedReceipt | undefined {
    return this.#receipts.get(id);
  }

  /** True the first time for a live receipt, false after that or once it has expired. */
  redeem(id: string, now: number): boolean {
    const issued = this.#receipts.get(id);
    if (!issued || issued.spent || issued.expiresAt < now) return false;
    issued.spent = true;
    return true;
  }

  /** Drop expired receipts, then the oldest, down to seven eighths of the limit. */
  #prune(now: number): void {
    for (const [id, issued] of this.#receipts) {
      if (issued.expiresAt < now) this.#receipts.delete(id);
    }
    const target = MAX_LIVE_RECEIPTS - MAX_LIVE_RECEIPTS / 8;
    for (const id of this.#receipts.keys()) {
      if (this.#receipts.size <= target) break;
      this.#receipts.delete(id);
    }
  }
}
