// Seals anchored in an anchor service over HTTP: examples/anchor-server.mjs, a real child
// process, with a bearer token from the environment; a re-sealed log no longer matches.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorSealOverHttp, checkAnchorsOverHttp } from '../../src/evidence/anchors.js';
import { developmentSigner } from '../../src/evidence/keys.js';
import { createKernel } from '../../src/kernel/create.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import type { SealEvent } from '../../src/recorder/event.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'agentk-anchors-http-'));
const TOKEN = 'anchor-token-5531';
let service: ChildProcess;
let url = '';

beforeAll(async () => {
  service = spawn(
    process.execPath,
    [join(PACKAGE_ROOT, 'examples', 'anchor-server.mjs'), join(dir, 'service.jsonl')],
    {
      env: { PATH: process.env.PATH ?? '', ANCHOR_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<string>((resolve, reject) => {
    let said = '';
    service.stdout?.on('data', (chunk: Buffer) => {
      said += chunk.toString('utf8');
      const found = /listening on (\d+)/.exec(said);
      if (found) resolve(found[1] as string);
    });
    service.once('exit', (code) => reject(new Error(`anchor service exited (${code})`)));
  });
  url = `http://127.0.0.1:${port}/seals`;
});
afterAll(() => {
  service.kill();
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
function sealedRun(runId: string, reads: number): { trace: string; seal: SealEvent } {
  const trace = join(dir, `run-${++count}.jsonl`);
  const kernel = createKernel({ runId, trace: { path: trace }, signer: developmentSigner() });
  for (let i = 0; i < reads; i++) {
    kernel.syscall({ kind: 'context.read', target: `file:n-${i}.md`, content: `note ${i}` });
  }
  return { trace, seal: kernel.close() as SealEvent };
}

describe('anchor services over HTTP', () => {
  it('posts a seal, reads it back, and tells a re-sealed run from it', async () => {
    const anchors = [{ url, headers: { Authorization: `Bearer ${TOKEN}` } }];
    const honest = sealedRun('run-h1', 2);
    const posted = await anchorSealOverHttp(honest.seal, anchors);
    expect(posted).toEqual([{ target: url, ok: true, detail: `posted to ${url}` }]);
    expect((await checkAnchorsOverHttp(honest.seal, anchors))[0]?.status).toBe('match');
    const forged = sealedRun('run-h1', 1);
    const checked = await checkAnchorsOverHttp(forged.seal, anchors);
    expect(checked[0]?.status).toBe('mismatch');
    expect(checked[0]?.detail).toContain('event_count');
    const unseen = sealedRun('run-h2', 1);
    expect((await checkAnchorsOverHttp(unseen.seal, anchors))[0]?.status).toBe('missing');
  });

  it('says why a service refused or could not be reached, never echoing a header', async () => {
    const honest = sealedRun('run-h3', 1);
    const refused = await anchorSealOverHttp(honest.seal, [
      { url, headers: { Authorization: 'Bearer wrong-token-0042' } },
    ]);
    expect(refused).toEqual([{ target: url, ok: false, detail: `${url} answered HTTP 401` }]);
    const gone = await anchorSealOverHttp(honest.seal, [
      { url: 'http://127.0.0.1:9/seals', headers: { Authorization: 'Bearer wrong-token-0042' } },
    ]);
    expect(gone[0]?.ok).toBe(false);
    expect(gone[0]?.detail).toContain('cannot reach http://127.0.0.1:9/seals');
    expect(JSON.stringify(gone)).not.toContain('wrong-token-0042');
  });

  it('agentk verify --anchors reads the service the policy names, its token from the environment', async () => {
    const policy = join(dir, 'anchored.toml');
    writeFileSync(
      policy,
      [
        'extends = "default"',
        '[anchors]',
        `http = ["${url}"]`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the policy's variable syntax.
        'headers = { Authorization = "Bearer ${ANCHOR_TOKEN}" }',
        '',
      ].join('\n'),
    );
    const honest = sealedRun('run-h4', 2);
    await anchorSealOverHttp(honest.seal, [{ url, headers: { Authorization: `Bearer ${TOKEN}` } }]);
    const ok = await runCli(['verify', honest.trace, '--anchors', '--policy', policy], {
      ANCHOR_TOKEN: TOKEN,
    });
    expect([ok.code, ok.stdout]).toEqual([
      0,
      `ANCHORED ${honest.trace} in ${url}: seal anchored\n`,
    ]);
    const unset = await runCli(['verify', honest.trace, '--anchors', '--policy', policy]);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the policy's variable syntax.
      "[anchors] header Authorization: ${ANCHOR_TOKEN} is not set in AgentK's environment",
    );
    const lines = readFileSync(join(dir, 'service.jsonl'), 'utf8').trim().split('\n');
    expect(lines.every((line) => !line.includes(TOKEN))).toBe(true);
  });
});
