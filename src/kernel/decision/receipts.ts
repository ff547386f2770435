// Live capability receipts: what redeeming one needs (the record itself is in the log,
// covered by a signed checkpoint). A receipt is spent once, before its effect, and only while it lives; the book is
// bounded, and a receipt pruned from it can no longer be redeemed (fail closed).

import type { SinkMask } from '../../vocabulary.js';
import type { RevealingReceipt } from '../secrets/vault.js';

/** Live receipts kept for redemption; beyond, the expired and then the oldest go. */
export const MAX_LIVE_RECEIPTS = 65_536;
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

  /**
   * Drop receipts oldest first, the expired and then as many more as it takes to come down
   * to seven eighths of the limit. Only what is dropped is visited (a scan of every receipt
   * for the expired ones cost 2 to 6 ms, once per 8,192 receipts past the limit); an
   * expired receipt behind a live one (the clock went back) waits for a later pass, and
   * cannot be redeemed meanwhile.
   */
  #prune(now: number): void {
    const target = MAX_LIVE_RECEIPTS - MAX_LIVE_RECEIPTS / 8;
    for (const [id, issued] of this.#receipts) {
      if (this.#receipts.size <= target && issued.expiresAt >= now) break;
      this.#receipts.delete(id);
    }
  }
}
