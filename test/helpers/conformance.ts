// The MCP conformance suite (@modelcontextprotocol/conformance, a devDependency pinned
// exactly) as the tests run it: its CLI, resolved from node_modules (missing or another
// version is a failure, never a skip), run as a child process with its results written to
// a temporary directory, and read back as a vector of check statuses per scenario.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/** The pinned version (package.json's devDependency): 0.1.14 and later need Node 22. */
export const SUITE_VERSION = '0.1.13';

/** The suite's CLI (dist/index.js), or a thrown error naming what to install. */
export function suiteCli(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('@modelcontextprotocol/conformance/package.json');
  } catch {
    throw new Error(
      `@modelcontextprotocol/conformance is not installed: run npm install (devDependency, pinned ${SUITE_VERSION})`,
    );
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  if (version !== SUITE_VERSION) {
    throw new Error(
      `@modelcontextprotocol/conformance ${version} installed, ${SUITE_VERSION} pinned`,
    );
  }
  return join(dirname(manifest), 'dist', 'index.js');
}

export interface Check {
  readonly id: string;
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO';
  readonly errorMessage?: string;
}

/** scenario -> its checks, as the suite wrote them; `dirs`: where (to look at a failure). */
export class Results extends Map<string, Check[]> {
  dirs: string[] = [];

  /** These results and `others`' in one. */
  static merged(runs: readonly Results[]): Results {
    const all = new Results(runs.flatMap((run) => [...run]));
    all.dirs = runs.flatMap((run) => run.dirs);
    return all;
  }
}

/**
 * Run the suite's CLI with `args` (plus `-o DIR`) and read every checks.json it wrote.
 * Its exit status is not the verdict (it is 1 when any check fails): the checks are.
 */
export async function runSuite(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Results> {
  const out = mkdtempSync(join(tmpdir(), 'agentk-conformance-'));
  const child = spawn(process.execPath, [suiteCli(), ...args, '-o', out], {
    cwd: out,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    said += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    said += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const results = readResults(out);
  if (results.size === 0) throw new Error(`the suite wrote no results (exit ${code}):\n${said}`);
  return results;
}

/** Results directories are `[server-]<scenario>-<ISO time with : and . as ->`. */
const STAMP = /-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/;

function readResults(out: string): Results {
  const results = new Results();
  results.dirs.push(out);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!statSync(path).isDirectory()) continue;
      if (STAMP.test(name) && readdirSync(path).includes('checks.json')) {
        const scenario = relative(out, path)
          .replace(STAMP, '')
          .replace(/^server-/, '');
        results.set(scenario, JSON.parse(readFileSync(join(path, 'checks.json'), 'utf8')));
      } else walk(path);
    }
  };
  walk(out);
  return results;
}

/** Each scenario's verdicts: `check-id STATUS`, INFO records left out, sorted. */
export function verdicts(results: Results): Map<string, string[]> {
  const vector = new Map<string, string[]>();
  for (const [scenario, checks] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
    const kept = checks.filter((check) => check.status !== 'INFO');
    vector.set(scenario, kept.map((check) => `${check.id} ${check.status}`).sort());
  }
  return vector;
}

/** The checks of `results` with status `status`, as `scenario: check-id`. */
export function withStatus(results: Results, status: Check['status']): string[] {
  return [...results].flatMap(([scenario, checks]) =>
    checks.filter((check) => check.status === status).map((check) => `${scenario}: ${check.id}`),
  );
}
