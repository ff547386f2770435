// Screenshots of `agentk view` for docs/images/: the demo's trace (timeline with a refused
// step selected, and the summary) and a tampered copy. Needs a build (npm run build) and
// Debian's Chromium (/usr/bin/chromium); run: node scripts/viewer-screenshots.mjs

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'agentk.js');
const images = join(root, 'docs', 'images');
const work = mkdtempSync(join(tmpdir(), 'agentk-shots-'));

function agentk(...args) {
  const run = spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`agentk ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

agentk('demo');
const trace = join(work, '.agentk', 'runs', 'latest.jsonl');
agentk('view', trace, '--out', join(work, 'demo.html'));
const lines = readFileSync(trace, 'utf8').split('\n');
lines[8] = lines[8].replace('"target":"https://', '"target":"http://');
writeFileSync(join(work, 'tampered.jsonl'), lines.join('\n'));
agentk('view', join(work, 'tampered.jsonl'), '--out', join(work, 'tampered.html'));

const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'agentk-pw-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 640 },
  colorScheme: 'light',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
  ],
});
const page = await browser.newPage();
await page.goto(`file://${join(work, 'demo.html')}#step-10`);
await page.waitForSelector('.row.selected[data-step="10"]');
await page.screenshot({ path: join(images, 'viewer-timeline.png') });
await page.click('#tab-summary');
await page.screenshot({ path: join(images, 'viewer-summary.png') });
await page.goto(`file://${join(work, 'tampered.html')}`);
await page.waitForSelector('body[data-ready="true"]');
await page.screenshot({ path: join(images, 'viewer-tampered.png') });
await browser.close();
console.log(`wrote viewer-timeline.png, viewer-summary.png, viewer-tampered.png to ${images}`);
