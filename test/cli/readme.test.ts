// Every `npx agentk` command in README.md's shell blocks runs, from a fresh directory
// with the examples, and succeeds: the README cannot drift from the CLI.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');

interface ReadmeCommand {
  readonly line: string;
  readonly env: Record<string, string>;
  readonly args: string[];
  readonly stdin: string | null;
}

function readmeCommands(): ReadmeCommand[] {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const commands: ReadmeCommand[] = [];
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of (block[1] as string).split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (!/^(?:[A-Z_]+=\S+\s+)*npx agentk\b/.test(line)) continue;
      const words = line.split(/\s+/);
      const env: Record<string, string> = {};
      while (/^[A-Z_]+=/.test(words[0] as string)) {
        const [name, value] = (words.shift() as string).split('=') as [string, string];
        env[name] = value;
      }
      words.splice(0, 2); // npx agentk
      const redirect = words.indexOf('<');
      const stdin = redirect === -1 ? null : (words[redirect + 1] as string);
      const args = redirect === -1 ? words : words.slice(0, redirect);
      commands.push({ line, env, args, stdin });
    }
  }
  return commands;
}

describe('README.md', () => {
  const commands = readmeCommands();

  it('shows the commands this test runs', () => {
    expect(commands.length).toBeGreaterThanOrEqual(18);
  });

  it('runs every npx agentk command it shows, successfully', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentk-readme-'));
    symlinkSync(join(PACKAGE_ROOT, 'examples'), join(cwd, 'examples'));
    const run = (args: string[], env: Record<string, string> = {}, stdin: string | null = null) =>
      spawnSync(process.execPath, [BIN, ...args], {
        cwd,
        env: { PATH: process.env.PATH ?? '', AGENTK_HOME: process.env.AGENTK_HOME ?? '', ...env },
        input: stdin === null ? '' : readFileSync(join(cwd, stdin)),
        encoding: 'utf8',
        timeout: 60_000,
      });
    expect(run(['demo']).status).toBe(0); // the README's first command makes the log the rest read
    const failures: string[] = [];
    for (const command of commands) {
      const result = run(command.args, command.env, command.stdin);
      if (result.status !== 0) {
        failures.push(`${command.line} -> exit ${result.status}: ${result.stderr.split('\n')[0]}`);
      }
    }
    expect(failures).toEqual([]);
  }, 180_000);
});
