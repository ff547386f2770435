// Approvals a person can answer (issue 14, item 9): approve once, or for the session for
// this tool and these control values, as a grant recorded in the trace that expires.

import { describe, expect, it } from 'vitest';
import { SESSION_GRANT_TTL_MS } from '../../src/kernel/decision/approvals.js';
import type { ApprovalAnswer, ApprovalRequest } from '../../src/kernel/types.js';
import { memoryKernel } from '../helpers/kernel.js';

const PAGE = {
  kind: 'context.read',
  target: 'https://wiki.example/howto',
  content:
    'Keep the ledger in /work/app/src/billing/ledger-and-invoices.ts and the notes in /work/app/docs/billing-notes-for-the-team.md',
} as const;
const write = (path: string, content: string) =>
  ({ kind: 'tool.invoke', target: 'fs/write_file', args: { path, content } }) as const;
const LEDGER = '/work/app/src/billing/ledger-and-invoices.ts';
const NOTES = '/work/app/docs/billing-notes-for-the-team.md';

function kernelAnswering(answer: Omit<ApprovalAnswer, 'approver'>) {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const asked: ApprovalRequest[] = [];
  const { kernel, sink } = memoryKernel({
    clock: () => now,
    approver: (request) => {
      asked.push(request);
      return { approver: 'dana', ...answer };
    },
  });
  kernel.syscall(PAGE);
  return { kernel, sink, asked, advance: (ms: number) => (now += ms) };
}

describe('a session grant', () => {
  it('allows the same tool with the same control values again without a question', async () => {
    const { kernel, asked } = kernelAnswering({ approved: true, scope: 'session' });
    const first = await kernel.decide(write(LEDGER, 'v1'));
    expect(first.verdict).toBe('allow');
    expect(asked).toHaveLength(1);
    const again = await kernel.decide(write(LEDGER, 'v2, other content'));
    expect(again.verdict).toBe('allow');
    expect(again.reason).toMatch(/within the session grant dana gave at step \d+/);
    expect(asked).toHaveLength(1);
  });

  it('does not cover another target value or another tool', async () => {
    const { kernel, asked } = kernelAnswering({ approved: true, scope: 'session' });
    await kernel.decide(write(LEDGER, 'v1'));
    await kernel.decide(write(NOTES, 'v1'));
    expect(asked).toHaveLength(2);
    await kernel.decide({ kind: 'tool.invoke', target: 'fs/edit_file', args: { path: LEDGER } });
    expect(asked).toHaveLength(3);
  });

  it('expires', async () => {
    const { kernel, asked, advance } = kernelAnswering({ approved: true, scope: 'session' });
    await kernel.decide(write(LEDGER, 'v1'));
    advance(SESSION_GRANT_TTL_MS + 1);
    await kernel.decide(write(LEDGER, 'v2'));
    expect(asked).toHaveLength(2);
  });

  it('is recorded in the trace with what it covers; a once approval is not a grant', async () => {
    const { kernel, sink } = kernelAnswering({ approved: true, scope: 'session' });
    await kernel.decide(write(LEDGER, 'v1'));
    const approve = sink.lines
      .map((line) => JSON.parse(line))
      .find((e) => e.syscall?.kind === 'human.approve');
    expect(approve.syscall.detail.approval).toMatchObject({
      approved: true,
      approver: 'dana',
      scope: 'session',
      grant_scope: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const once = kernelAnswering({ approved: true });
    await once.kernel.decide(write(LEDGER, 'v1'));
    await once.kernel.decide(write(LEDGER, 'v2'));
    expect(once.asked).toHaveLength(2);
  });

  it('is nothing when the person declines', async () => {
    const { kernel, asked } = kernelAnswering({ approved: false, scope: 'session' });
    expect((await kernel.decide(write(LEDGER, 'v1'))).allowed).toBe(false);
    expect((await kernel.decide(write(LEDGER, 'v2'))).allowed).toBe(false);
    expect(asked).toHaveLength(2);
  });
});
