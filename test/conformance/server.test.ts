// The MCP conformance suite's server scenarios (every one, `--suite all`), run three ways
// at once against AgentK's own fixture server (test/fixtures/mcp/conformance-server.mjs,
// the SDK's Server implementing what the scenarios ask for):
//   - directly, the fixture over Streamable HTTP;
//   - through `agentk mcp-proxy-http --url` in front of that HTTP server (a remote server);
//   - through `agentk mcp-proxy-http -- node fixture stdio` (a local server AgentK starts,
//     one per MCP session): the scenarios of LOCAL only, each its own run of the suite, all
//     at once (a server process per session costs too much time for all 32 in CI; these
//     cover what differs from --url: a server request and notifications coming from a
//     child's stdout, and the endpoint's own Host and Origin checks).
// Every check's status through AgentK must equal the direct one, except the checks listed
// in DELIBERATE (AgentK fails them on purpose, with the reason). The direct run must pass:
// otherwise the fixture, not AgentK, is what the comparison would measure.

import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Results, runSuite, suiteCli, verdicts, withStatus } from '../helpers/conformance.js';
import { type Endpoint, startEndpoint } from '../helpers/http-endpoint.js';

const FIXTURE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'mcp',
  'conformance-server.mjs',
);

/**
 * Checks AgentK fails on purpose, `scenario: check-id` -> why. None today: the suite's
 * scenarios carry no credential or injection, so the default policy allows every call.
 */
const DELIBERATE: Readonly<Record<string, string>> = {};

/**
 * Checks that are not SUCCESS directly either (WARNING: a SHOULD), with why; the same
 * status is then required through AgentK like any other.
 */
const DIRECT_WARNINGS = [
  // The scenario sends MCP-Protocol-Version 2025-03-26; the SDK's server transport sends
  // a priming event (with `retry`) only to clients of 2025-11-25 or later.
  'server-sse-polling: server-sse-priming-event',
  'server-sse-polling: server-sse-retry-field',
];

const children: ChildProcess[] = [];
const endpoints: Endpoint[] = [];
afterAll(async () => {
  for (const endpoint of endpoints)
    if (endpoint.child.exitCode === null) endpoint.child.kill('SIGKILL');
  for (const child of children) child.kill('SIGKILL');
});

/** The fixture over Streamable HTTP; resolves with its URL once it says it listens. */
async function fixtureOverHttp(): Promise<string> {
  const child = spawn(process.execPath, [FIXTURE, 'http'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let said = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      said += chunk.toString('utf8');
      const url = /listening on (http:\/\/\S+)/.exec(said)?.[1];
      if (url) resolve(url);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      said += chunk.toString('utf8');
    });
    child.once('exit', (code) => reject(new Error(`the fixture exited (${code}): ${said}`)));
  });
}

const LOCAL = [
  'server-initialize',
  'tools-call-with-progress',
  'tools-call-sampling',
  'dns-rebinding-protection',
];

/** The suite opens a session per scenario and never ends one: room for all of them. */
const ROOM = ['--max-sessions', '64'];

let direct: Results;
let remote: Results;
let local: Results;
let remoteEndpoint: Endpoint;
let localEndpoint: Endpoint;
beforeAll(async () => {
  suiteCli(); // not installed: fail at once, naming what to install
  const fixture = await fixtureOverHttp();
  [remoteEndpoint, localEndpoint] = await Promise.all([
    startEndpoint([...ROOM, '--url', fixture], {}, []),
    startEndpoint(ROOM, {}, [process.execPath, FIXTURE, 'stdio']),
  ]);
  endpoints.push(remoteEndpoint, localEndpoint);
  const all = (url: string) => runSuite(['server', '--url', url, '--suite', 'all']);
  const one = (scenario: string) =>
    runSuite(['server', '--url', localEndpoint.url, '--scenario', scenario]);
  const [directRun, remoteRun, ...localRuns] = await Promise.all([
    all(fixture),
    all(remoteEndpoint.url),
    ...LOCAL.map(one),
  ]);
  direct = directRun as Results;
  remote = remoteRun as Results;
  local = Results.merged(localRuns);
}, 180_000);

/** `vector` with the DELIBERATE checks taken out (each must be in it, as a failure). */
function withoutDeliberate(results: Results): Map<string, string[]> {
  const vector = verdicts(results);
  for (const key of Object.keys(DELIBERATE)) {
    const [scenario, id] = key.split(': ') as [string, string];
    const kept = vector.get(scenario);
    if (kept === undefined) continue; // a scenario this run did not include
    expect(kept, `${key} is listed as failed on purpose`).toContain(`${id} FAILURE`);
    vector.set(
      scenario,
      kept.filter((verdict) => verdict !== `${id} FAILURE`),
    );
  }
  return vector;
}

function directWithoutDeliberate(only?: readonly string[]): Map<string, string[]> {
  const vector = verdicts(direct);
  if (only)
    for (const scenario of vector.keys()) if (!only.includes(scenario)) vector.delete(scenario);
  for (const key of Object.keys(DELIBERATE)) {
    const [scenario, id] = key.split(': ') as [string, string];
    const kept = vector.get(scenario);
    if (kept === undefined) continue;
    vector.set(
      scenario,
      kept.filter((verdict) => !verdict.startsWith(`${id} `)),
    );
  }
  return vector;
}

describe('MCP conformance suite, server scenarios: directly and through agentk mcp-proxy-http', () => {
  it('the fixture passes every scenario directly (what the comparison stands on)', () => {
    expect(direct.size).toBe(32);
    expect(withStatus(direct, 'FAILURE'), `see ${direct.dirs}`).toEqual([]);
    expect(withStatus(direct, 'WARNING').sort()).toEqual([...DIRECT_WARNINGS].sort());
    expect(withStatus(direct, 'SUCCESS').length).toBe(44);
  });

  it('through mcp-proxy-http --url (a remote server): every check as directly', () => {
    expect(withoutDeliberate(remote), `see ${remote.dirs} and ${direct.dirs}`).toEqual(
      directWithoutDeliberate(),
    );
  });

  it('through mcp-proxy-http -- CMD (a local server per session): every check as directly', () => {
    expect([...local.keys()].sort()).toEqual([...LOCAL].sort());
    expect(withoutDeliberate(local), `see ${local.dirs} and ${direct.dirs}`).toEqual(
      directWithoutDeliberate(LOCAL),
    );
  });

  it('every session through AgentK had its own trace, sealed when the endpoint stopped', async () => {
    for (const endpoint of [remoteEndpoint, localEndpoint]) {
      const { code, stderr } = await endpoint.stop('SIGTERM');
      expect(code).toBe(0);
      const started = stderr.match(/: mediating /g) ?? [];
      const sealed = stderr.match(/\(sealed\)$/gm) ?? [];
      // At least a session per scenario (some scenarios open two).
      expect(started.length).toBeGreaterThanOrEqual(
        endpoint === remoteEndpoint ? 32 : LOCAL.length,
      );
      expect(sealed.length).toBe(started.length);
      // The default policy let every call through: no session denied anything.
      expect(stderr).not.toMatch(/[1-9]\d* denied/);
    }
  });
});
