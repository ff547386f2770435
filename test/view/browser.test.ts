// The viewer in a real browser (Debian's Chromium, headless): the page `agentk view --out`
// writes for the demo's trace, a tampered copy, an unsealed copy, a hostile trace and a
// long one; and the page the local server serves. Every wait is for an element or an
// event, never for time.

import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompiledPolicy } from '../../src/policy/compile.js';
import { buildViewModel } from '../../src/view/model.js';
import { renderPage } from '../../src/view/page.js';
import { serveView } from '../../src/view/server.js';
import { ROW_HEIGHT } from '../../src/view/style.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULT_POLICY, policyAt } from '../helpers/kernel.js';
import { BIN } from '../helpers/real.js';
import {
  demoTrace,
  HAVE_CHROMIUM,
  hostileTrace,
  longTrace,
  openBrowser,
  PAYLOADS,
  printedUrl,
  scratchDir,
  tamperedCopy,
  unsealedCopy,
  viewerPage,
} from '../helpers/view.js';

/** `agentk view TRACE --out FILE.html`; the file:// address of the page. */
async function pageOf(trace: string): Promise<string> {
  const out = join(scratchDir(), 'view.html');
  const written = await runCli(['view', trace, '--out', out]);
  expect(written.code, written.stderr).toBe(0);
  return `file://${out}`;
}

/** The status of a GET of `url` that names `host` in its Host header (fetch cannot). */
function statusWithHost(url: string, host: string): Promise<number | undefined> {
  return new Promise((done, fail) => {
    const request = get(url, { headers: { host } }, (response) => {
      response.resume();
      done(response.statusCode);
    });
    request.on('error', fail);
  });
}

/** Records the live stream's event types the page hears, in window.__live. */
const RECORD_LIVE = `window.__live = [];
const listen = EventSource.prototype.addEventListener;
EventSource.prototype.addEventListener = function (type, listener, options) {
  return listen.call(this, type, function (event) {
    window.__live.push(type);
    return listener.call(this, event);
  }, options);
};`;

/** The steps of the rows drawn, in order. */
const drawnSteps = (page: Page) =>
  page.$$eval('#rows .row', (rows) => rows.map((row) => Number(row.getAttribute('data-step'))));

describe.skipIf(!HAVE_CHROMIUM)('agentk view in a browser', () => {
  let browser: BrowserContext;
  let demo: string;
  beforeAll(async () => {
    browser = await openBrowser();
    demo = await demoTrace();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('says the demo trace verifies, lists every event, and filters and searches them', async () => {
    const { page, console } = await viewerPage(browser, await pageOf(demo));
    await expect(page.getAttribute('#banner', 'class')).resolves.toBe('banner verified');
    expect(await page.textContent('#banner-status')).toBe('VERIFIED');
    expect(await page.textContent('#banner-headline')).toMatch(
      /^11 events, hash chain intact, sealed; /,
    );
    expect(await drawnSteps(page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    await page.selectOption('#f-verdict', 'deny');
    expect(await drawnSteps(page)).toEqual([7, 9, 10]);
    await page.selectOption('#f-verdict', '');
    await page.selectOption('#f-syscall', 'context.read');
    expect(await drawnSteps(page)).toEqual([1, 2, 7]);
    await page.selectOption('#f-syscall', '');
    await page.selectOption('#f-label', 'secret');
    expect(await drawnSteps(page)).toEqual([7, 8, 9]);
    await page.click('#f-reset');
    await page.fill('#f-search', 'ATTACKER.example');
    expect(await drawnSteps(page)).toEqual([9]);
    await page.fill('#f-search', 'may not leave the MACHINE');
    expect(await drawnSteps(page)).toEqual([9]);
    expect(await page.textContent('#f-count')).toBe('1 of 11 events');
    expect(console).toEqual([]);
  });

  it('opens #step-N on that event, moves with j/k, and follows provenance to its page', async () => {
    const { page } = await viewerPage(browser, `${await pageOf(demo)}#step-10`);
    await page.waitForSelector('.row.selected[data-step="10"]');
    expect(await page.textContent('#detail h2')).toContain('step 10 · tool.invoke');
    // Where the steered shell command came from: the page read at step 2, by its hash.
    const origin = page.locator('#detail li a[href="#step-2"]').first();
    expect(await origin.textContent()).toBe('step 2');
    await origin.click();
    await page.waitForSelector('.row.selected[data-step="2"]');
    expect(page.url()).toMatch(/#step-2$/);
    await page.keyboard.press('j');
    await page.waitForSelector('.row.selected[data-step="3"]');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('k');
    await page.waitForSelector('.row.selected[data-step="3"]');
    expect(page.url()).toMatch(/#step-3$/);
    // A link to a step the filters hide clears them.
    await page.selectOption('#f-verdict', 'deny');
    await page.evaluate("location.hash = '#step-1'");
    await page.waitForSelector('.row.selected[data-step="1"]');
    expect(await page.inputValue('#f-verdict')).toBe('');
  });

  it('shows an event’s receipt, secret handle and approval field by field, hashes short', async () => {
    const { page, console } = await viewerPage(browser, `${await pageOf(demo)}#step-8`);
    await page.waitForSelector('.row.selected[data-step="8"]');
    // Step 8 is the secret.open: its receipt and its handle, never the handle's id.
    const records = page.locator('#detail .record');
    expect(await records.count()).toBe(2);
    const receipt = records.nth(0);
    expect(await receipt.locator('strong').textContent()).toMatch(/^receipt rcpt_[0-9a-f]{32}$/);
    const rows = await receipt
      .locator('tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.children[0]?.textContent, tr.children[1]?.textContent]),
      );
    const field = (name: string) => rows.find(([key]) => key === name)?.[1];
    expect(field('allows')).toBe('secret.open secret://ssh/id_rsa');
    expect(field('step')).toBe('8');
    expect(field('scope')).toMatch(/^secret\.open:/);
    // The demo writes no checkpoint: the seal authenticates its receipts.
    expect(field('authenticated by')).toBe('the seal (it covers every event)');
    // The previous hash is shown short, the whole of it behind its copy button.
    const previous = receipt.locator('tr', { hasText: 'bound to previous hash' });
    expect(await previous.locator('code').textContent()).toMatch(/^[0-9a-f]{12}…$/);
    expect(await previous.locator('code').getAttribute('title')).toMatch(/^[0-9a-f]{64}$/);
    expect(await previous.locator('button.copy').count()).toBe(1);
    const handle = records.nth(1);
    expect(await handle.textContent()).toContain('secret://ssh/id_rsa');
    expect(await handle.textContent()).not.toMatch(/secret_fd_|PRIVATE KEY/);
    // Step 5, a person's answer to the ask at step 4.
    await page.evaluate("location.hash = '#step-5'");
    await page.waitForSelector('.row.selected[data-step="5"]');
    expect(await page.textContent('#detail')).toContain('a person’s answer to an ask');
    expect(await page.textContent('#detail')).toContain(
      'file.patch notes/acme-pricing.md (step 4)',
    );
    // Step 6, the write it allowed: who approved it, and where.
    await page.evaluate("location.hash = '#step-6'");
    await page.waitForSelector('.row.selected[data-step="6"]');
    expect(await page.textContent('#detail')).toContain('approved by a person');
    // The seal, in the summary.
    await page.click('#tab-summary');
    const seal = await page
      .locator('#seal tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.children[0]?.textContent, tr.children[1]?.textContent]),
      );
    expect(seal.find(([key]) => key === 'events covered')?.[1]).toBe('11');
    expect(seal.find(([key]) => key === 'head hash')?.[1]).toMatch(/^[0-9a-f]{12}…copy$/);
    expect(console).toEqual([]);
  });

  it('shows a tampered log as FAILED, with the first bad line shown and linked', async () => {
    const { page } = await viewerPage(browser, await pageOf(tamperedCopy(demo, 5)));
    await expect(page.getAttribute('#banner', 'class')).resolves.toBe('banner failed');
    expect(await page.textContent('#banner-status')).toBe('FAILED');
    expect(await page.textContent('#banner-headline')).toMatch(/^verification fails at line 5: /);
    expect(await page.getAttribute('#banner-fail-link', 'href')).toBe('#fail');
    expect(await page.isVisible('#fail')).toBe(true);
    expect(await page.textContent('#fail-title')).toMatch(/^Line 5 fails verification: /);
    expect(await page.textContent('#fail-excerpt')).toContain('"step":5');
    expect(await drawnSteps(page)).toEqual([1, 2, 3, 4]);
  });

  it('shows a log without its seal as UNSEALED, not as verified', async () => {
    const { page } = await viewerPage(browser, await pageOf(unsealedCopy(demo)));
    await expect(page.getAttribute('#banner', 'class')).resolves.toBe('banner unsealed');
    expect(await page.textContent('#banner-status')).toBe('UNSEALED');
    expect(await page.textContent('#banner')).not.toMatch(/VERIFIED|Verified/);
    expect(await page.isVisible('#fail')).toBe(false);
    expect(await page.$('#seal')).toBeNull();
  });

  it('renders hostile targets, rules and reasons as text: no script of the log runs', async () => {
    const { page, console } = await viewerPage(browser, await pageOf(await hostileTrace()));
    await page.selectOption('#f-verdict', 'deny');
    const targets = await page.$$eval('#rows .c-target', (cells) =>
      cells.map((c) => c.textContent),
    );
    for (const target of targets) expect(PAYLOADS.some((p) => target === `${p} target`)).toBe(true);
    for (const step of await drawnSteps(page)) {
      await page.click(`.row[data-step="${step}"]`);
      await page.waitForSelector(`.row.selected[data-step="${step}"]`);
    }
    await page.click('#tab-summary');
    await page.waitForSelector('#blocked li');
    // The page's own elements only: no image, frame, svg or extra script from the log.
    const counts = await page.evaluate(`({
      pwned: window.__pwned ?? null,
      scripts: document.querySelectorAll('script').length,
      foreign: document.querySelectorAll('img, svg:not(.pgraph), iframe, object, embed, #evil').length,
      graphs: document.querySelectorAll('svg.pgraph').length,
    })`);
    expect(counts).toEqual({ pwned: null, scripts: 3, foreign: 0, graphs: 1 });
    expect(await page.textContent('#blocked')).toContain(PAYLOADS[0]);
    // The new fields too: the sessions' names and the pins, as text.
    expect(await page.textContent('#sessions')).toContain(`agent ${PAYLOADS[0]}`);
    expect(await page.textContent('#pins')).toContain(PAYLOADS[1]);
    expect(
      console.filter((line) => /PWNED|pageerror|CSP violation|Content Security Policy/i.test(line)),
    ).toEqual([]);
  });

  it('draws only the rows in view of a long trace, and reaches its last step', async () => {
    const { page } = await viewerPage(browser, await pageOf(await longTrace(3000)));
    const height = await page.$eval('#spacer', (spacer) => spacer.getAttribute('style'));
    expect(height).toBe(`height: ${3000 * ROW_HEIGHT}px;`);
    expect((await drawnSteps(page)).length).toBeLessThan(120);
    await page.evaluate("location.hash = '#step-3000'");
    await page.waitForSelector('.row.selected[data-step="3000"]');
    expect((await drawnSteps(page)).length).toBeLessThan(120);
  });

  it('serves the page with its CSP under a token on 127.0.0.1, and refuses requests without it', async () => {
    const policy = { path: DEFAULT_POLICY, policy: new CompiledPolicy(policyAt(DEFAULT_POLICY)) };
    const built = renderPage(buildViewModel(demo, { policy }));
    const server = await serveView(() => built);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{64}\/$/);
      const root = `http://127.0.0.1:${server.port}/`;
      expect((await fetch(root)).status).toBe(403);
      expect((await fetch(`${root}${'0'.repeat(64)}/`)).status).toBe(403);
      expect(await statusWithHost(server.url, `evil.example:${server.port}`)).toBe(403);
      expect((await fetch(`${root}events`)).status).toBe(403);
      // Not live: the page's event stream does not exist.
      expect((await fetch(`${server.url}events`)).status).toBe(404);
      const ok = await fetch(server.url);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-security-policy')).toBe(
        `${built.csp}; frame-ancestors 'none'`,
      );
      const { page, console } = await viewerPage(browser, server.url);
      expect(await page.textContent('#banner-status')).toBe('VERIFIED');
      expect(console).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('live mode (--follow, the binary): appended events come as rows, then its seal; a rewrite resends all', async () => {
    const lines = readFileSync(demo, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
    const seal = lines.findIndex((line) => line.includes('"type":"seal"'));
    const path = join(scratchDir(), 'live.jsonl');
    writeFileSync(path, `${lines.slice(0, 4).join('\n')}\n`);
    const child = spawn(process.execPath, [BIN, 'view', path, '--follow'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await printedUrl(child);
      const { page, console } = await viewerPage(browser, url, RECORD_LIVE);
      expect(await page.textContent('#banner-status')).toBe('UNSEALED');
      await page.waitForSelector('#live:not([hidden])');
      appendFileSync(path, `${lines.slice(4, seal).join('\n')}\n`);
      await page.waitForSelector('.row[data-step="11"]');
      expect(await page.textContent('#banner-status')).toBe('UNSEALED');
      appendFileSync(path, `${lines.slice(seal).join('\n')}\n`);
      await page.waitForSelector('#banner.verified');
      expect(await page.textContent('#banner-status')).toBe('VERIFIED');
      expect(await drawnSteps(page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      // Appended events came as rows after those the page held, never the whole model.
      const heard = (await page.evaluate('window.__live')) as string[];
      expect(heard).toContain('rows');
      expect(heard).not.toContain('model');
      // The file rewritten (cut to three events): the whole model again.
      writeFileSync(path, `${lines.slice(0, 3).join('\n')}\n`);
      await page.waitForSelector('.row[data-step="4"]', { state: 'detached' });
      expect(await drawnSteps(page)).toEqual([1, 2, 3]);
      expect(await page.textContent('#banner-status')).toBe('UNSEALED');
      expect(await page.evaluate('window.__live')).toContain('model');
      expect(console).toEqual([]);
    } finally {
      child.kill('SIGINT');
    }
  });
});
