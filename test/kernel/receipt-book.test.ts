import { describe, expect, it } from 'vitest';
import { MAX_LIVE_RECEIPTS, ReceiptBook } from '../../src/kernel/decision/receipts.js';

const T0 = 1_800_000_000_000;
const receipt = (expiresAt: number) => ({
  scope: 'tool.invoke:s/t',
  expiresAt,
  sinks: 0,
  handles: [],
});

describe('ReceiptBook: bounded', () => {
  it('past the limit, drops the oldest live receipts down to seven eighths of it', () => {
    const book = new ReceiptBook();
    for (let i = 0; i <= MAX_LIVE_RECEIPTS; i++) book.issue(`r${i}`, receipt(T0 + 60_000), T0);
    const dropped = MAX_LIVE_RECEIPTS + 1 - (MAX_LIVE_RECEIPTS - MAX_LIVE_RECEIPTS / 8);
    expect(book.get(`r${dropped - 1}`)).toBeUndefined();
    expect(book.redeem(`r${dropped - 1}`, T0)).toBe(false); // fail closed
    expect(book.redeem(`r${dropped}`, T0)).toBe(true);
    expect(book.redeem(`r${MAX_LIVE_RECEIPTS}`, T0)).toBe(true);
  });

  it('drops every expired receipt first, and then no live one', () => {
    const book = new ReceiptBook();
    const expired = MAX_LIVE_RECEIPTS / 2;
    for (let i = 0; i < MAX_LIVE_RECEIPTS; i++) {
      book.issue(`r${i}`, receipt(i < expired ? T0 + 1 : T0 + 60_000), T0);
    }
    book.issue('last', receipt(T0 + 60_000), T0 + 2);
    expect(book.get(`r${expired - 1}`)).toBeUndefined();
    for (const id of [`r${expired}`, `r${MAX_LIVE_RECEIPTS - 1}`, 'last']) {
      expect(book.redeem(id, T0 + 2)).toBe(true);
    }
  });
});
