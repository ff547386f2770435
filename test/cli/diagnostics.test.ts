// What `agentk mcp-proxy-stdio` tells the person running it, through the real bin and real
// child processes: a server that dies says why (the end of its stderr, redacted, and the
// log that has all of it), a variable it needs but does not get is named with the flag
// that passes it, a server that cannot start is reported once, and the summary names the
// trace by its absolute path.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  lineSplitter,
  serverLine,
  withheldLine,
  withheldNames,
} from '../../src/cli/proxy-report.js';
import { logLines, TailBuffer } from '../../src/mcp/proxy/stdio.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { INITIALIZE as INITIALIZE_MESSAGE } from '../helpers/runs.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');
const INITIALIZE = `${JSON.stringify(INITIALIZE_MESSAGE)}\n`;
/** A fake GitHub token, built here so that no literal ships. */
const FAKE_TOKEN = `ghp_${'Zq8Wx2Lp4Nr6Ts1Vy3'.repeat(2)}`;

/** A server that explains itself on stderr and exits, as a misconfigured server does. */
function dyingServer(dir: string): string {
  const path = join(dir, 'dying.mjs');
  writeFileSync(
    path,
    [
      "console.error('github server starting');",
      "if (process.env.GITHUB_TOKEN) console.error('auth with ' + process.env.GITHUB_TOKEN + ' failed');",
      `console.error('debug: using fallback token ${FAKE_TOKEN}');`,
      "console.error('FATAL: GITHUB_TOKEN is not set\\u001b[2J');",
      'process.exit(3);',
    ].join('\n'),
  );
  return path;
}

function proxy(dir: string, args: readonly string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, 'mcp-proxy-stdio', ...args], {
    cwd: dir,
    input: INITIALIZE,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      AGENTK_HOME: join(dir, 'state'),
      ...env,
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('a server that dies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentk-diag-'));
  const server = dyingServer(dir);
  const run = proxy(dir, ['--server-id', 'gh', '--', process.execPath, server], {
    GITHUB_TOKEN: 'configured-in-the-client',
  });
  const said = run.stderr.trim().split('\n');

  it('fails the session and shows the end of its stderr, redacted, with the log', () => {
    expect(run.code).toBe(1);
    const header = said.find((line) => line.includes("the server's last words on stderr"));
    expect(header).toMatch(/\(all of it: \S+\/logs\/mcp-gh\.log\):$/);
    expect(said).toContain('agentk gh:   | FATAL: GITHUB_TOKEN is not set');
    expect(said).toContain('agentk gh:   | github server starting');
    // A credential the server printed, and a terminal control, never reach the terminal.
    expect(run.stderr).not.toContain(FAKE_TOKEN);
    expect(run.stderr).not.toContain('\u001b');
    expect(said.at(-1)).toMatch(/^agentk gh: the server exited \(code 3\);/);
  });

  it('keeps all of its stderr in the state directory log', () => {
    const workspace = readdirSync(join(dir, 'state', 'workspaces'))[0] as string;
    const log = readFileSync(
      join(dir, 'state', 'workspaces', workspace, 'logs', 'mcp-gh.log'),
      'utf8',
    );
    expect(log).toContain('FATAL: GITHUB_TOKEN is not set');
    // The log is redacted as the terminal is: a credential the server printed is not kept.
    expect(log).toContain('debug: using fallback token [redacted');
    expect(log).not.toContain(FAKE_TOKEN);
  });

  it('logs line by line, a credential split across reads redacted whole, the last line kept', () => {
    const written: string[] = [];
    const log = logLines(
      (line) => serverLine(line, {}, 65_536),
      (text) => written.push(String(text)),
    );
    const said = `first\r\nfound ${FAKE_TOKEN} in the cache\nno newline at the end é`;
    const bytes = Buffer.from(said, 'utf8');
    // Cut inside the token, and inside the two bytes of the last character.
    const cuts = [said.indexOf(FAKE_TOKEN) + 10, bytes.length - 1];
    log.push(bytes.subarray(0, cuts[0]));
    log.push(bytes.subarray(cuts[0], cuts[1]));
    log.push(bytes.subarray(cuts[1]));
    expect(written).toEqual([
      'first\n',
      expect.stringMatching(/^found \[redacted[^\]]*\] in the cache\n$/),
    ]);
    log.end();
    expect(written.at(-1)).toBe('no newline at the end é\n');
    expect(written.join('')).not.toContain(FAKE_TOKEN.slice(4, 20));
  });

  it('logs an over-long line in 64 KiB pieces, and many short lines one by one', () => {
    const written: string[] = [];
    const log = logLines(
      (line) => line,
      (text) => written.push(String(text)),
    );
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
    log.push(Buffer.from(`${'a'.repeat(150 * 1024)}\n${lines.join('\n')}\n`));
    log.end();
    expect(written.slice(0, 3).map((piece) => piece.length)).toEqual([
      64 * 1024 + 1,
      64 * 1024 + 1,
      22 * 1024 + 1,
    ]);
    expect(written.slice(3)).toEqual(lines.map((line) => `${line}\n`));
  });

  it('leaves a run that `runs show` and `why` name, though nothing but its seal is in it', () => {
    const workspace = readdirSync(join(dir, 'state', 'workspaces'))[0] as string;
    const runs = join(dir, 'state', 'workspaces', workspace, 'runs');
    const file = readdirSync(runs).find((name) => /^mcp-gh-\d{8}T/.test(name)) as string;
    const runId = file.replace(/^mcp-gh-/, '').replace(/\.jsonl$/, '');
    const env = { PATH: process.env.PATH ?? '', AGENTK_HOME: join(dir, 'state') };
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: 'utf8' });
    const shown = cli(['runs', 'show', join(runs, file)]);
    expect(shown.stdout.split('\n')[0]).toBe(`Run ${runId}`);
    const why = cli(['why', join(runs, file)]);
    expect(why.stdout).toContain(`(run ${runId}, sealed and verified)`);
  });

  it('names the variable it needs and the flag that passes it, never its value', () => {
    expect(said).toContain(
      'agentk gh: not passed to the server: GITHUB_TOKEN (add --allow-env NAME for each it needs)',
    );
    expect(said).toContain(
      'agentk gh: it names GITHUB_TOKEN, which AgentK did not pass to it: add --allow-env GITHUB_TOKEN',
    );
    expect(run.stderr).not.toContain('configured-in-the-client');
  });

  it('does not suggest a variable it was given', () => {
    const given = proxy(
      dir,
      ['--server-id', 'gh', '--allow-env', 'GITHUB_TOKEN', '--', process.execPath, server],
      { GITHUB_TOKEN: 'configured-in-the-client' },
    );
    expect(given.code).toBe(1);
    expect(given.stderr).not.toContain('--allow-env GITHUB_TOKEN');
    // The value it was given is known verbatim, and never shown: its name stands in.
    expect(given.stderr).toContain('agentk gh:   | auth with [GITHUB_TOKEN] failed');
    expect(given.stderr).not.toContain('configured-in-the-client');
    expect(given.stderr).toContain('FATAL: GITHUB_TOKEN is not set');
  });
});

describe('variables set for the server that it does not get', () => {
  it("names a hand-written entry's env, credentials first, and not what every shell sets", () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-diag-'));
    const server = dyingServer(dir);
    const run = proxy(dir, ['--server-id', 'fs', '--', process.execPath, server], {
      ALLOWED_DIRECTORIES: '/srv/data',
      GITHUB_TOKEN: 'configured-in-the-client',
      LANG: 'C.UTF-8',
      SHELL: '/bin/sh',
      XDG_RUNTIME_DIR: '/run/user/1000',
      npm_config_cache: '/tmp/npm',
    });
    expect(run.stderr).toContain(
      'agentk fs: not passed to the server: GITHUB_TOKEN, ALLOWED_DIRECTORIES (add --allow-env NAME for each it needs)',
    );
    expect(run.stderr).not.toContain('/srv/data');
  });

  it('counts the rest of an environment handed down whole, and names it all with --verbose', () => {
    const inherited = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`TOOL_${i}_HOME`, '/opt']),
    );
    const names = withheldNames({ ...inherited, NPM_TOKEN: 'x', LANG: 'C' }, []);
    expect(names[0]).toBe('NPM_TOKEN');
    expect(names).toHaveLength(10);
    expect(withheldLine(names)).toBe(
      "not passed to the server: NPM_TOKEN, and 9 other variables of AgentK's environment (--verbose names them) (add --allow-env NAME for each it needs)",
    );
    expect(withheldLine(names, true)).toBe(
      `not passed to the server: ${names.join(', ')} (add --allow-env NAME for each it needs)`,
    );
    expect(withheldLine(names.slice(1))).toBe(
      "not passed to the server: 9 other variables of AgentK's environment (--verbose names them) (add --allow-env NAME for each it needs)",
    );
    expect(withheldLine([])).toBeNull();
  });

  it('says nothing when the server gets every variable set for it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-diag-'));
    const server = dyingServer(dir);
    const run = proxy(
      dir,
      ['--server-id', 'fs', '--allow-env', 'ALLOWED_DIRECTORIES', '--', process.execPath, server],
      { ALLOWED_DIRECTORIES: '/srv/data', LANG: 'C.UTF-8' },
    );
    expect(run.stderr).toContain('agentk fs: mediating ');
    expect(run.stderr).not.toContain('not passed to the server');
  });
});

describe('the lines around a session', () => {
  it('says once that a command cannot be found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-diag-'));
    const run = proxy(dir, ['--server-id', 'x', '--', 'agentk-no-such-server-command']);
    expect(run.code).toBe(2);
    const hits = run.stderr.match(/command not found/g) ?? [];
    expect(hits).toHaveLength(1);
    expect(run.stderr).toMatch(
      /cannot start agentk-no-such-server-command: command not found \(ENOENT\)/,
    );
  });

  it('names the trace by its absolute path in the summary, and counts refusals', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-diag-'));
    writeFileSync(join(dir, 'script.json'), '{}');
    const run = proxy(dir, [
      '--server-id',
      'fs',
      '--trace-out',
      'here.jsonl',
      '--',
      process.execPath,
      join(PACKAGE_ROOT, 'test', 'fixtures', 'mcp', 'script-server.mjs'),
      join(dir, 'script.json'),
    ]);
    expect(run.code).toBe(0);
    const summary = run.stderr.trim().split('\n').at(-1);
    expect(summary).toContain(`trace ${join(dir, 'here.jsonl')} (sealed)`);
    expect(summary).toMatch(/, 0 denied or asked\);/);
  });

  it('shows the server stderr as it comes with --verbose, and refuses --quiet with it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-diag-'));
    const server = dyingServer(dir);
    const run = proxy(dir, ['--server-id', 'gh', '--verbose', '--', process.execPath, server]);
    expect(run.stderr).toMatch(/^agentk gh: server environment: PATH, HOME; server log \S+/m);
    expect(run.stderr).toMatch(/^agentk gh: server: github server starting$/m);
    expect(run.stderr).not.toContain(FAKE_TOKEN);
    const both = proxy(dir, ['--server-id', 'gh', '--verbose', '--quiet', '--', 'x']);
    expect([both.code, both.stderr.trim()]).toEqual([
      2,
      'agentk mcp-proxy-stdio: give --quiet or --verbose, not both',
    ]);
  });
});

describe('server text shown in the terminal', () => {
  it('is cut into whole lines before it is redacted, however the reads split it', () => {
    const shown: string[] = [];
    const split = lineSplitter((line) => shown.push(serverLine(line, {}, 2000)));
    const line = `token ${FAKE_TOKEN} leaked\n`;
    const cut = line.indexOf(FAKE_TOKEN) + 10;
    split(Buffer.from(line.slice(0, cut)));
    split(Buffer.from(line.slice(cut)));
    expect(shown).toEqual(['token [redacted-secret] leaked']);
  });

  it('keeps a character split across two reads whole', () => {
    const shown: string[] = [];
    const split = lineSplitter((line) => shown.push(line));
    const bytes = Buffer.from('café ok\n', 'utf8');
    const cut = bytes.indexOf(0xa9); // inside é
    split(bytes.subarray(0, cut));
    split(bytes.subarray(cut));
    expect(shown).toEqual(['café ok']);
  });

  it('is redacted before it is clipped, so a credential across the clip is not half shown', () => {
    const line = `${'x'.repeat(290)} ${FAKE_TOKEN}`;
    const shown = serverLine(line, {}, 300);
    expect(shown).not.toContain(FAKE_TOKEN.slice(0, 8));
    expect(shown.length).toBeLessThanOrEqual(301);
  });

  it('names a passed value even when escapes are woven into it', () => {
    const value = 'configured-in-the-client';
    const woven = `auth ${value.slice(0, 9)}\u001b[0m${value.slice(9)} failed`;
    expect(serverLine(woven, { GITHUB_TOKEN: value }, 2000)).toBe('auth [GITHUB_TOKEN] failed');
  });

  it('has its escapes removed before it is redacted: a token split by colour is still found', () => {
    const coloured = `key ${FAKE_TOKEN.slice(0, 10)}\u001b[1m${FAKE_TOKEN.slice(10)}\u001b[0m end`;
    expect(serverLine(coloured, {}, 2000)).toBe('key [redacted-secret] end');
  });

  it('shows only the start of an over-long line, never part of a token at the cut', () => {
    const shown: string[] = [];
    const split = lineSplitter((line) => shown.push(serverLine(line, {}, 100_000)), 1000);
    const long = `${'word '.repeat(190)}${FAKE_TOKEN}${'z'.repeat(2000)}`;
    split(Buffer.from(long.slice(0, 1500)));
    split(Buffer.from(`${long.slice(1500)}\nnext line\n`));
    expect(shown).toHaveLength(2);
    expect(shown[0]).toMatch(/^(word )+/);
    expect(shown[0]).not.toContain(FAKE_TOKEN.slice(0, 6));
    expect(shown[1]).toBe('next line');
  });

  it("leaves out of a dead server's tail the line that began before it", () => {
    const tail = new TailBuffer(64);
    tail.push(Buffer.from(`first ${FAKE_TOKEN}\n`));
    tail.push(Buffer.from('second line\nthird line\n'));
    expect(tail.lines(5)).toEqual(['second line', 'third line']);
  });
});
