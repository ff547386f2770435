// Anchored seals: a seal kept in a file and a git repository the agent's host cannot
// rewrite; a log rewritten and sealed again (the key stolen) no longer matches its anchor.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { anchorSeal, checkAnchors } from '../../src/evidence/anchors.js';
import { developmentSigner } from '../../src/evidence/keys.js';
import { createKernel } from '../../src/kernel/create.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { SealEvent } from '../../src/recorder/event.js';
import { runCli } from '../helpers/cli.js';
import { MEMORY, proxied } from '../helpers/real.js';
import { connectCapturing } from '../helpers/remote.js';

const dir = mkdtempSync(join(tmpdir(), 'agentk-anchors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

/** A sealed log of `reads` context reads under run `runId`; its path and seal. */
function sealedRun(runId: string, reads: number): { trace: string; seal: SealEvent } {
  const trace = join(dir, `run-${++count}.jsonl`);
  const kernel = createKernel({ runId, trace: { path: trace }, signer: developmentSigner() });
  for (let i = 0; i < reads; i++) {
    kernel.syscall({ kind: 'context.read', target: `file:notes-${i}.md`, content: `note ${i}` });
  }
  return { trace, seal: kernel.close() as SealEvent };
}

function gitRepo(): string {
  const repo = mkdtempSync(join(dir, 'repo-'));
  const git = spawnSync('git', ['init', '--quiet', repo], { encoding: 'utf8' });
  expect(git.status, git.stderr).toBe(0);
  return repo;
}

describe('anchored seals', () => {
  it('keeps a seal in a file and a repository, and tells a rewritten log from it', () => {
    const file = join(dir, 'anchors.jsonl');
    const repo = gitRepo();
    const targets = { files: [file], git: [repo] };
    const honest = sealedRun('run-a', 3);
    const outcomes = anchorSeal(honest.seal, targets);
    expect(outcomes.map((o) => [o.ok, o.detail])).toEqual([
      [true, `appended to ${file}`],
      [true, `committed to ${repo}`],
    ]);
    expect(checkAnchors(honest.seal, targets).map((c) => c.status)).toEqual(['match', 'match']);

    // The host rewrites the run (one read fewer) and seals it again with the same key.
    const forged = sealedRun('run-a', 2);
    const checks = checkAnchors(forged.seal, targets);
    expect(checks.map((c) => c.status)).toEqual(['mismatch', 'mismatch']);
    expect(checks[0]?.detail).toContain('event_count');
    expect(checks[0]?.detail).toContain('head_hash');

    // Anchoring the forgery too does not make it match: the file now holds two seals of
    // the run, and the repository keeps the first.
    const again = anchorSeal(forged.seal, targets);
    expect(again.map((o) => o.ok)).toEqual([true, false]);
    expect(again[1]?.detail).toContain('already holds another seal for run run-a');
    expect(checkAnchors(honest.seal, targets).map((c) => c.status)).toEqual(['mismatch', 'match']);
    expect(anchorSeal(honest.seal, { files: [], git: [repo] })[0]?.detail).toBe(
      `already committed in ${repo}`,
    );
  });

  it('says missing for a run the anchor never saw, and why an anchor cannot be used', () => {
    const file = join(dir, 'other.jsonl');
    anchorSeal(sealedRun('run-b', 1).seal, { files: [file], git: [] });
    const unseen = sealedRun('run-c', 1).seal;
    expect(checkAnchors(unseen, { files: [file], git: [] })[0]?.status).toBe('missing');
    const nowhere = join(dir, 'no-such-dir', 'anchors.jsonl');
    const failed = anchorSeal(unseen, { files: [nowhere], git: [join(dir, 'not-a-repo')] });
    expect(failed.map((o) => o.ok)).toEqual([false, false]);
    expect(failed[0]?.detail).toContain('ENOENT');
    expect(checkAnchors(unseen, { files: [nowhere], git: [] })[0]?.status).toBe('unreadable');
  });

  it('agentk verify --anchor: exit 0 when the anchor holds this seal, 1 when another', async () => {
    const file = join(dir, 'cli-anchors.jsonl');
    const honest = sealedRun('run-d', 2);
    anchorSeal(honest.seal, { files: [file], git: [] });
    const ok = await runCli(['verify', honest.trace, '--anchor', file]);
    expect([ok.code, ok.stdout]).toEqual([
      0,
      `ANCHORED ${honest.trace} in ${file}: seal anchored\n`,
    ]);
    const forged = sealedRun('run-d', 1);
    const bad = await runCli(['verify', forged.trace, '--anchor', file, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      ok: false,
      status: 'anchor-failed',
      anchors: [{ target: file, status: 'mismatch' }],
    });
    const lonely = await runCli(['verify', forged.trace, '--policy', file]);
    expect([lonely.code, lonely.stderr]).toEqual([
      2,
      'agentk verify: --policy names where --anchors are read from: give --anchors with it\n',
    ]);
  });

  it('refuses an anchor path that is neither absolute nor under ~/', async () => {
    const policy = join(dir, 'relative-anchor.toml');
    writeFileSync(policy, 'extends = "default"\n[anchors]\nfiles = ["anchors.jsonl"]\n');
    const checked = await runCli(['policy-check', policy]);
    expect(checked.code).not.toBe(0);
    expect(checked.stdout + checked.stderr).toContain(
      'anchors.files[0]: an anchor path is absolute or starts with "~/"',
    );
  });

  it('joins anchor lists across extends', () => {
    const parent = join(dir, 'parent.toml');
    writeFileSync(parent, 'extends = "default"\n[anchors]\nfiles = ["/a/seals.jsonl"]\n');
    const child = join(dir, 'child.toml');
    writeFileSync(
      child,
      'extends = "parent.toml"\n[anchors]\nfiles = ["/b/seals.jsonl"]\ngit = ["~/r"]\n',
    );
    expect(loadPolicyFile(child).anchors).toEqual({
      files: ['/a/seals.jsonl', '/b/seals.jsonl'],
      git: ['~/r'],
      http: [],
      headers: {},
    });
  });

  it('the proxy anchors its session seal where the policy says (~/ resolved)', async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    mkdirSync(join(home, 'evidence'));
    const policy = join(dir, 'anchored.toml');
    writeFileSync(policy, 'extends = "default"\n[anchors]\nfiles = ["~/evidence/seals.jsonl"]\n');
    const trace = join(dir, 'proxied.jsonl');
    const proxy = proxied('memory', trace, [MEMORY], ['--policy', policy]);
    const capture = connectCapturing(proxy, { HOME: home });
    const client = await capture.connecting;
    await client.listTools();
    await client.close();
    const anchorFile = join(home, 'evidence', 'seals.jsonl');
    await expect
      .poll(() => capture.stderr(), { timeout: 20_000 })
      .toContain(`seal appended to ${anchorFile}`);
    expect(readFileSync(anchorFile, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    const verified = await runCli(['verify', trace, '--anchors', '--policy', policy], {
      HOME: home,
    });
    expect([verified.code, verified.stdout]).toEqual([
      0,
      `ANCHORED ${trace} in ${anchorFile}: seal anchored\n`,
    ]);
  });
});
