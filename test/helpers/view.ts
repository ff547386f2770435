// Traces for the viewer's tests (the demo's, a tampered copy, an unsealed copy, a hostile
// one that still verifies, a long one) and a headless Chromium to look at them with.
// Chromium is Debian's (`apt-get install chromium`; .ci/run installs it), driven by
// playwright-core with a fresh profile and nothing that reaches the network.

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { runCli } from './cli.js';
import { type Json, parseLog, rechain } from './forge.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Browser tests run wherever Chromium is installed, and must run in CI (which installs it). */
export const HAVE_CHROMIUM = existsSync(CHROMIUM) || process.env.CI === 'true';

/** A fresh scratch directory. */
export function scratchDir(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), 'agentk-view-')));
}

/** Run `agentk demo` in a fresh directory; the path of its (sealed, verified) trace. */
export async function demoTrace(): Promise<string> {
  const cwd = scratchDir();
  const demo = await runCli(['demo', '--json'], {}, cwd);
  if (demo.code !== 0) throw new Error(`demo failed: ${demo.stderr}`);
  return join(cwd, (JSON.parse(demo.stdout) as { trace: string }).trace);
}

/** Events and seal of a log, checkpoint lines dropped (rechain re-signs what remains). */
function eventsOf(trace: string): Json[] {
  return parseLog(readFileSync(trace, 'utf8')).filter((line) => line.type !== 'checkpoint');
}

/** A copy of `trace` with one byte of line `line` changed (a digit of its target flipped). */
export function tamperedCopy(trace: string, line: number): string {
  const lines = readFileSync(trace, 'utf8').split('\n');
  const text = lines[line - 1] as string;
  const at = text.indexOf('"target":"') + '"target":"'.length;
  lines[line - 1] = `${text.slice(0, at)}${text[at] === 'X' ? 'Y' : 'X'}${text.slice(at + 1)}`;
  const path = join(scratchDir(), 'tampered.jsonl');
  writeFileSync(path, lines.join('\n'));
  return path;
}

/** A copy of `trace` without its seal line (what a crash leaves). */
export function unsealedCopy(trace: string): string {
  const lines = readFileSync(trace, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
  const kept = lines.filter((line) => !line.includes('"type":"seal"'));
  const path = join(scratchDir(), 'unsealed.jsonl');
  writeFileSync(path, `${kept.join('\n')}\n`);
  return path;
}

/** Markup and script that must show as text and never run: each would set window.__pwned. */
export const PAYLOADS = [
  '<img src=x onerror="window.__pwned=1;console.log(\'PWNED\')">',
  '</script><script>window.__pwned=2;console.log("PWNED")</script>',
  '<svg onload="window.__pwned=3">',
  '"><a id="evil" href="javascript:window.__pwned=4">x</a><!--',
  '\u2028</script ><script>window.__pwned=5</script>',
];

/**
 * The demo's trace with the refused events' targets, rules, reasons, agent ids and pin
 * states replaced by hostile markup, re-chained and re-sealed (forge.ts): it verifies, so the page shows
 * every string of it. Refused events carry no receipt, so nothing else binds them.
 */
export async function hostileTrace(): Promise<string> {
  const events = eventsOf(await demoTrace());
  let n = 0;
  for (const event of events) {
    if (event.type !== 'syscall' || event.decision.verdict === 'allow') continue;
    const payload = PAYLOADS[n % PAYLOADS.length] as string;
    n += 1;
    event.syscall.target = `${payload} target`;
    event.decision.rule = `rule ${payload}`;
    event.decision.reason = `reason ${payload}`;
    // A session of its own (the summary's bars) and a pin state (the pins card, its record).
    event.agent_id = `agent ${payload}`;
    event.syscall.detail = { ...event.syscall.detail, pin: payload };
  }
  const path = join(scratchDir(), 'hostile.jsonl');
  writeFileSync(path, rechain(events, undefined, true));
  return path;
}

/** A long trace: the demo's refused events repeated to `count` events, sealed. */
export async function longTrace(count: number): Promise<string> {
  const all = eventsOf(await demoTrace());
  const refused = all.filter((e) => e.type === 'syscall' && e.decision.verdict !== 'allow');
  const seal = all.find((e) => e.type === 'seal');
  const events = Array.from({ length: count }, (_, i) =>
    structuredClone(refused[i % refused.length]),
  );
  const path = join(scratchDir(), 'long.jsonl');
  writeFileSync(path, rechain([...events, seal], undefined, true));
  return path;
}

/** Headless Chromium with a fresh profile; close() when done. */
export async function openBrowser(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(scratchDir(), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page on `url`, once the viewer has drawn itself; console lines are collected. */
export async function viewerPage(
  browser: BrowserContext,
  url: string,
  /** Script run in the page before its own (playwright's, not subject to the page's CSP). */
  before?: string,
): Promise<{ page: Page; console: string[] }> {
  const page = await browser.newPage();
  const console: string[] = [];
  page.on('console', (message) => console.push(message.text()));
  page.on('pageerror', (error) => console.push(`pageerror: ${error.message}`));
  // A CSP violation is a line too: the page must not need its CSP to stay inert.
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => {
    console.error('CSP violation: ' + event.violatedDirective);
  });`);
  if (before !== undefined) await page.addInitScript(before);
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, console };
}

/** The address a running `agentk view` printed. */
export function printedUrl(child: ChildProcess): Promise<string> {
  let stdout = '';
  return new Promise<string>((found, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{64}\//.exec(stdout);
      if (match) found(match[0]);
    });
    child.once('exit', () => fail(new Error(`view exited: ${stdout}`)));
  });
}
