// The viewer's evidence, sessions and provenance in a real browser (Debian's Chromium):
// signed checkpoints, catalogue pins and a session grant field by field, one bar per
// session, and the provenance graph of a refused call with its click-through. Every wait
// is for an element, never for time.

import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { HAVE_CHROMIUM, openBrowser, scratchDir, viewerPage } from '../helpers/view.js';
import { pinsTrace, sessionsTrace } from '../helpers/view-traces.js';

async function pageOf(trace: string): Promise<string> {
  const out = join(scratchDir(), 'view.html');
  const written = await runCli(['view', trace, '--out', out]);
  expect(written.code, written.stderr).toBe(0);
  return `file://${out}`;
}

/** The fields of the record titled `title` in the details pane, as [name, text]. */
async function recordFields(page: Page, title: RegExp): Promise<Map<string, string>> {
  const record = page.locator('#detail .record', {
    has: page.locator('strong', { hasText: title }),
  });
  const rows = await record
    .first()
    .locator('tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [tr.children[0]?.textContent ?? '', tr.children[1]?.textContent ?? '']),
    );
  return new Map(rows as [string, string][]);
}

async function open(page: Page, step: number): Promise<void> {
  await page.evaluate(`location.hash = '#step-${step}'`);
  await page.waitForSelector(`.row.selected[data-step="${step}"]`);
}

describe.skipIf(!HAVE_CHROMIUM)('agentk view: evidence, sessions, provenance', () => {
  let browser: BrowserContext;
  let pins: string;
  let sessions: string;
  beforeAll(async () => {
    browser = await openBrowser();
    pins = await pageOf(await pinsTrace());
    sessions = await pageOf(await sessionsTrace());
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows signed checkpoints: what each signs, that it verified, and the receipts it authenticates', async () => {
    const { page, console } = await viewerPage(browser, pins);
    await page.click('#tab-summary');
    const listed = await page.locator('#checkpoints tr').count();
    expect(await page.textContent('#checkpoints h3')).toMatch(/^Signed checkpoints \(\d+\)$/);
    expect(listed).toBeGreaterThan(0);
    // The first one, on the event it follows, field by field.
    const covers = Number(await page.locator('#checkpoints tr a').first().textContent());
    await page.locator('#checkpoints tr a').first().click();
    await page.waitForSelector(`.row.selected[data-step="${covers}"]`);
    const checkpoint = await recordFields(page, /^signed checkpoint \(line \d+\)$/);
    expect(checkpoint.get('events covered')).toBe(String(covers));
    expect(checkpoint.get('signs')).toBe(
      `the first ${covers} events of the run, up to step ${covers}`,
    );
    expect(checkpoint.get('verified')).toMatch(/^yes: /);
    expect(checkpoint.get('head hash')).toMatch(/^[0-9a-f]{12}…copy$/);
    expect(checkpoint.get('signature')).toMatch(/^[0-9a-f]{12}…copy$/);
    // The head hash it signs is the event's own hash.
    const head = await page
      .locator('#detail .record', { hasText: 'signed checkpoint' })
      .locator('tr', { hasText: 'head hash' })
      .locator('code')
      .getAttribute('title');
    const eventHash = await page
      .locator('#detail dt', { hasText: 'event hash' })
      .locator('xpath=following-sibling::dd[1]//code')
      .getAttribute('title');
    expect(head).toBe(eventHash);
    // The allowed call at step 22 (the first tool.invoke): its receipt names that checkpoint.
    await open(page, 22);
    const receipt = await recordFields(page, /^receipt rcpt_/);
    expect(receipt.get('authenticated by')).toMatch(
      /^the signed checkpoint at line \d+ \(it covers steps 1 to \d+\)$/,
    );
    expect(console).toEqual([]);
  });

  it('shows the catalogue pins: which server, which tool changed, the descriptor hash, the refusal', async () => {
    const { page, console } = await viewerPage(browser, pins);
    await page.click('#tab-summary');
    const pinned = await page.$$eval('#pins li', (items) => items.map((li) => li.textContent));
    expect(
      pinned.some((text) => /^step 1 first-use tool\.describe fault\/echo/.test(text ?? '')),
    ).toBe(true);
    const changed = pinned.filter((text) => /changed/.test(text ?? ''));
    expect(changed.map((text) => /^step (\d+)/.exec(text ?? '')?.[1])).toEqual(['24', '45']);
    await page.click('#pins a[href="#step-24"]');
    await page.waitForSelector('.row.selected[data-step="24"]');
    const describe = await recordFields(page, /^catalogue pin: changed$/);
    expect(describe.get('server')).toBe('fault');
    expect(describe.get('tool')).toBe('echo');
    expect(describe.get('pin state')).toMatch(/^changed: changed since it was pinned/);
    expect(describe.get('descriptor hash')).toMatch(/^[0-9a-f]{12}…copy$/);
    expect(describe.get('to accept it')).toBe('agentk pins approve --server-id fault');
    await open(page, 45);
    const refused = await recordFields(page, /^refused by the pins: changed$/);
    expect(refused.get('tool')).toBe('echo');
    expect(console).toEqual([]);
  });

  it('shows a session grant: what it covers, its scope hash, the note by hash; and where it was used', async () => {
    const { page, console } = await viewerPage(browser, `${sessions}#step-3`);
    await page.waitForSelector('.row.selected[data-step="3"]');
    const answer = await recordFields(page, /^a person’s answer to an ask$/);
    expect(answer.get('approver')).toBe('dana');
    expect(answer.get('for')).toBe('the rest of the session');
    expect(answer.get('grants')).toMatch(/^for the rest of the session: requests of the same kind/);
    expect(answer.get('grant scope')).toMatch(/^[0-9a-f]{12}…copy$/);
    expect(answer.get('note hash')).toMatch(/^[0-9a-f]{12}…copy$/);
    await open(page, 5);
    const used = await recordFields(page, /^approved by a person$/);
    expect(used.get('answer at step')).toBe('3');
    expect(used.get('by')).toBe('the session grant given there');
    expect(console).toEqual([]);
  });

  it('draws one bar per session (agent), on the same time axis', async () => {
    const { page, console } = await viewerPage(browser, sessions);
    await page.click('#tab-summary');
    const rows = page.locator('#sessions .session');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('code').textContent()).toBe('agentk-agent');
    expect(await rows.nth(1).locator('code').textContent()).toBe('researcher');
    expect(await rows.nth(1).textContent()).toContain('4 events, from step 7');
    // The main agent was asked and approved, never denied; the sub-agent was denied.
    expect(await rows.nth(0).locator('.seg.approved').count()).toBeGreaterThan(0);
    expect(await rows.nth(0).locator('.seg.deny').count()).toBe(0);
    expect(await rows.nth(1).locator('.seg.deny').count()).toBeGreaterThan(0);
    // Same buckets for both; the sub-agent's first six (before it was spawned) are empty.
    const columns = (n: number) =>
      rows
        .nth(n)
        .locator('.bar .col')
        .evaluateAll((cols) => cols.map((col) => col.children.length));
    const [main, sub] = [await columns(0), await columns(1)];
    expect(main.length).toBe(sub.length);
    expect(sub.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(main.slice(6)).toEqual([0, 0, 0, 0]);
    expect(console).toEqual([]);
  });

  it('draws where a refused call’s tainted argument came from as a graph, each page a link to its step', async () => {
    const { page, console } = await viewerPage(browser, `${sessions}#step-8`);
    await page.waitForSelector('.row.selected[data-step="8"]');
    const graph = page.locator('#detail svg.pgraph');
    expect(await graph.count()).toBe(1);
    const nodes = await graph
      .locator('g.pg-node')
      .evaluateAll((gs) =>
        gs.map((g) => [
          g.getAttribute('class'),
          Array.from(
            g.querySelectorAll('text'),
            (t) => (t as { textContent: string | null }).textContent,
          ),
        ]),
      );
    expect(nodes).toContainEqual([
      'pg-node page',
      [
        expect.stringMatching(/^step 7 · context\.read h.*…$/),
        expect.stringMatching(/^page [0-9a-f]{12}$/),
      ],
    ]);
    expect(nodes).toContainEqual(['pg-node value', ['command', 'untrusted, external']]);
    expect(nodes).toContainEqual([
      'pg-node call deny',
      ['step 8 · tool.invoke · deny', 'shell/exec'],
    ]);
    // The session's labels, inherited from the page its parent read at step 1.
    expect(nodes).toContainEqual([
      'pg-node session',
      [
        expect.stringMatching(/^session untrusted, ext.*…$/),
        expect.stringMatching(/^context\.read https:\/\/wiki.*…$/),
      ],
    ]);
    // Page -> value -> call, plus the session's labels -> call (dashed).
    expect(await graph.locator('path.pg-edge:not(.dashed)').count()).toBe(2);
    // The page node's tooltip has the whole source and hash; clicking it opens that step.
    expect(await graph.locator('a[href="#step-7"] title').first().textContent()).toMatch(
      /^step 7 context\.read https:\/\/forum\.example\/thread\/7 page [0-9a-f]{64}$/,
    );
    await graph.locator('a[href="#step-7"]').first().click();
    await page.waitForSelector('.row.selected[data-step="7"]');
    expect(page.url()).toMatch(/#step-7$/);
    expect(console).toEqual([]);
  });

  it('keeps a large provenance graph bounded: at most 8 nodes a column, the rest counted', async () => {
    const { page } = await viewerPage(browser, `${sessions}#step-10`);
    await page.waitForSelector('.row.selected[data-step="10"]');
    const graph = page.locator('#detail svg.pgraph');
    expect(await graph.locator('g.pg-node.value').count()).toBe(7);
    expect(await graph.locator('g.pg-node.more').last().textContent()).toContain('+5 more values');
    // Every one of the twelve is still in the list under it.
    expect(await page.locator('#detail li', { hasText: /^url\d+ / }).count()).toBe(12);
  });
});
