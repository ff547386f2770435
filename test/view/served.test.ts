// The served viewer in a real browser (Debian's Chromium): the page leaves the events'
// details on the server and fetches a selected event's under the token; live mode notices
// an earlier line changed while the log grows. Every wait is for an element or an event,
// never for time.

import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/real.js';
import {
  demoTrace,
  HAVE_CHROMIUM,
  openBrowser,
  printedUrl,
  scratchDir,
  viewerPage,
} from '../helpers/view.js';

/** `agentk view TRACE [more]` serving, until stopped; its address. */
async function served(trace: string, more: string[] = []) {
  const child = spawn(process.execPath, [BIN, 'view', trace, ...more], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, url: await printedUrl(child) };
}

describe.skipIf(!HAVE_CHROMIUM)('agentk view, served', () => {
  let browser: BrowserContext;
  let demo: string;
  beforeAll(async () => {
    browser = await openBrowser();
    demo = await demoTrace();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('fetches a selected event’s details from its server, under the token, instead of embedding them', async () => {
    const { child, url } = await served(demo);
    try {
      const html = await (await fetch(url)).text();
      // No details in the page: their block is empty, no event hash is in it.
      expect(html).toMatch(/<script type="application\/json" id="agentk-details"><\/script>/);
      const hashes = readFileSync(demo, 'utf8').match(/"event_hash":"[0-9a-f]{64}"/g) ?? [];
      expect(hashes.length).toBeGreaterThan(0);
      // (The last event's hash is the seal's head hash, which the summary shows.)
      for (const hash of hashes.slice(0, 10)) expect(html).not.toContain(hash.slice(14, 78));
      const { page, console } = await viewerPage(browser, url);
      const asked: string[] = [];
      page.on('request', (request) => {
        if (request.url().includes('/details?')) asked.push(request.url());
      });
      await page.click('.row[data-step="8"]');
      // The receipt and handle come once the server answered.
      await page.waitForSelector('#detail .record strong:text-matches("^receipt rcpt_")');
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatch(/\/[0-9a-f]{64}\/details\?b=[0-9a-f]{16}&from=6&to=8$/);
      expect(await page.textContent('#detail')).toContain('secret://ssh/id_rsa');
      const eventHash = await page
        .locator('#detail dt', { hasText: 'event hash' })
        .locator('xpath=following-sibling::dd[1]//code')
        .getAttribute('title');
      expect(hashes.some((hash) => hash.includes(eventHash as string))).toBe(true);
      // Without the token: 403; of another build: 409.
      const root = new URL(url);
      expect((await fetch(`${root.origin}/details?b=x&from=0&to=1`)).status).toBe(403);
      expect((await fetch(`${url}details?b=0000000000000000&from=0&to=1`)).status).toBe(409);
      expect(console).toEqual([]);
    } finally {
      child.kill('SIGINT');
    }
  });

  it('says so when the log changed under a served page, instead of showing other events’ details', async () => {
    const lines = readFileSync(demo, 'utf8').split('\n');
    const path = join(scratchDir(), 'grows.jsonl');
    writeFileSync(path, `${lines.slice(0, 4).join('\n')}\n`);
    const { child, url } = await served(path);
    try {
      const { page } = await viewerPage(browser, url);
      // The log grows: the server's build changes; the open page's details are of the old one.
      appendFileSync(path, `${lines[4]}\n`);
      expect((await fetch(url)).status).toBe(200);
      await page.click('.row[data-step="2"]');
      await page.waitForSelector(
        '#detail dd:text("not available: the log changed since this page was built: reload it")',
      );
    } finally {
      child.kill('SIGINT');
    }
  });

  it('live: a line it verified changed while the log grows shows TAMPERED, not the new events as clean', async () => {
    const lines = readFileSync(demo, 'utf8').split('\n');
    const path = join(scratchDir(), 'live.jsonl');
    writeFileSync(path, `${lines.slice(0, 4).join('\n')}\n`);
    const { child, url } = await served(path, ['--follow']);
    try {
      const { page, console } = await viewerPage(browser, url);
      await page.waitForSelector('#live:not([hidden])');
      expect(await page.textContent('#banner-status')).toBe('UNSEALED');
      // One byte of line 2 changed in place, and a line appended after it.
      const fd = openSync(path, 'r+');
      writeSync(
        fd,
        'X',
        (lines[0] as string).length + 1 + (lines[1] as string).indexOf('"target":"') + 10,
      );
      closeSync(fd);
      appendFileSync(path, `${lines[4]}\n`);
      await page.waitForSelector('#banner.failed');
      expect(await page.textContent('#banner-status')).toBe('TAMPERED');
      expect(await page.textContent('#banner-headline')).toMatch(
        /^the log changed under the viewer: line 2, verified before/,
      );
      expect(console).toEqual([]);
    } finally {
      child.kill('SIGINT');
    }
  });
});
