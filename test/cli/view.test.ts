// `agentk view`: the runs to pick from with no argument, a real proxy run in a state
// directory by `latest`, the page written atomically and never over a file unless told,
// one clear line for every bad input, and the served page behind its token (the real
// binary, stopped by SIGINT).

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stateDirs } from '../../src/config/state.js';
import { CompiledPolicy } from '../../src/policy/compile.js';
import { decodeRows } from '../../src/view/columns.js';
import { buildViewModel } from '../../src/view/model.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULT_POLICY, policyAt } from '../helpers/kernel.js';
import { BIN } from '../helpers/real.js';
import { proxySession, scratch } from '../helpers/runs.js';
import { demoTrace, scratchDir } from '../helpers/view.js';

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('agentk view', () => {
  it('with no trace lists the runs of the workspace and exits 0 with a hint', async () => {
    const { ws, home } = scratch();
    expect(proxySession(ws, home).status).toBe(0);
    const listed = await runCli(['view'], { AGENTK_HOME: home }, ws);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/1 run, .* in /);
    expect(listed.stdout).toMatch(/sealed/);
    expect(listed.stdout).toContain('View one: agentk view latest');
  });

  it('writes the page of a real proxy run, named by latest, with its server, tools and provenance', async () => {
    const { ws, home } = scratch();
    expect(proxySession(ws, home).status).toBe(0);
    const out = join(ws, 'run.html');
    const written = await runCli(['view', 'latest', '--out', out], { AGENTK_HOME: home }, ws);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toMatch(
      /^Wrote .*run\.html\n {2}VERIFIED: \d+ events, hash chain intact, sealed/,
    );
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // No address but the trace's own (collect, news) and the SVG namespace the page's
    // script names when it draws a provenance graph (a name, never fetched).
    expect(html).not.toMatch(
      /<(link|img|iframe)\b|src=|https?:\/\/(?!collect|news|www\.w3\.org\/2000\/svg')/i,
    );
    // The same run through the model: the refused post's URL came from the fetched page.
    const dir = stateDirs({ AGENTK_HOME: home }, ws).runs;
    const file = readdirSync(dir).find((name) => /^mcp-web-.*\.jsonl$/.test(name)) as string;
    const policy = { path: DEFAULT_POLICY, policy: new CompiledPolicy(policyAt(DEFAULT_POLICY)) };
    const model = buildViewModel(join(dir, file), { policy });
    expect(model.summary.servers.web).toBeGreaterThan(0);
    expect(Object.keys(model.summary.tools)).toEqual(
      expect.arrayContaining(['web/fetch_page', 'web/post_report']),
    );
    const events = decodeRows(model.events);
    const post = events.find((e) => e.target === 'web/post_report' && e.verdict !== 'allow');
    const origin = model.provenance.find((p) => p.step === post?.step)?.origins[0];
    expect(origin?.argument).toMatch(/url/);
    expect(events.find((e) => e.step === origin?.step)?.target).toBe('web/fetch_page');
  });

  it('refuses to replace a file unless --force, and leaves no temporary file', async () => {
    const trace = await demoTrace();
    const dir = scratchDir();
    const out = join(dir, 'page.html');
    writeFileSync(out, 'mine');
    const refused = await runCli(['view', trace, '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`agentk view: ${out} exists; give --force to replace it\n`);
    expect(readFileSync(out, 'utf8')).toBe('mine');
    const forced = await runCli(['view', trace, '--out', out, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^<!doctype html>/);
    expect(readdirSync(dir)).toEqual(['page.html']);
  });

  it('says what is wrong with bad input in one line, without a stack', async () => {
    const trace = await demoTrace();
    const cases: [string[], RegExp][] = [
      [['view', join(scratchDir(), 'nope.jsonl')], /^agentk view: no such trace: .*nope\.jsonl/],
      [['view', trace, '--port', 'abc'], /^agentk view: --port must be a number from 0 to 65535/],
      [['view', trace, '--port', '70000'], /^agentk view: --port must be a number/],
      [
        ['view', trace, '--out', 'x.html', '--port', '0'],
        /^agentk view: give --out or --port, not both\n$/,
      ],
      [['view', trace, '--force'], /^agentk view: --force goes with --out\n$/],
      [['view', trace, '--out', 'x.html', '--follow'], /^agentk view: --follow serves a live page/],
      [
        ['view', trace, '--out', join(scratchDir(), 'no', 'dir', 'x.html')],
        /^agentk view: no such directory: /,
      ],
      [['view', trace, '--bogus'], /^agentk view: Unknown option '--bogus'/],
      [['view', 'a', 'b'], /^agentk view: unexpected argument "b"\n$/],
    ];
    for (const [argv, message] of cases) {
      const result = await runCli(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toMatch(message);
      expect(result.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
      noStack(result.stderr);
    }
  });

  it('serves on 127.0.0.1 under a token until SIGINT (the binary): 403 without the token', async () => {
    const trace = await demoTrace();
    const child = spawn(process.execPath, [BIN, 'view', trace], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const url = await new Promise<string>((found, fail) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        const match = /http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{64}\//.exec(stdout);
        if (match) found(match[0]);
      });
      child.once('exit', () => fail(new Error(`view exited: ${stdout}`)));
    });
    expect(stdout).toMatch(/^Viewing .*\n {2}VERIFIED: 11 events/);
    const origin = new URL(url).origin;
    expect((await fetch(`${origin}/`)).status).toBe(403);
    expect((await fetch(`${origin}/${'a'.repeat(64)}/`)).status).toBe(403);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; script-src 'sha256-/,
    );
    expect(await page.text()).toContain('id="agentk-data"');
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(trace)).toBe(true);
  });
});
