// `agentk why` never suggests a rule that copies a wildcard (security review: a refused
// read of `note://team/*` yielded `targets = ["srv/note://team/*"]`, "checked", which
// allows every team note), and says who sealed the trace: the development key, this
// machine's key, or a key from elsewhere. Real proxy sessions in front of the script server.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSeedHex, signerFromSeedHex } from '../../src/crypto/index.js';
import { binarySession } from '../helpers/binary.js';
import { runCli } from '../helpers/cli.js';
import { proxySession, STEERED_URL, scratch, steeredScript } from '../helpers/runs.js';

const NOTES = {
  'resources/list': { resources: [] },
  'resources/read': { contents: [{ uri: 'note://x', text: 'PAYROLL: ...' }] },
};

const WILD_URL = 'https://*.example.net/upload';
const STEERED = steeredScript(WILD_URL);

/** A policy that denies reading team notes, in a fresh directory. */
function notesPolicy(): { dir: string; policy: string } {
  const dir = mkdtempSync(join(tmpdir(), 'agentk-why-wild-'));
  const policy = join(dir, 'policy.toml');
  writeFileSync(
    policy,
    `extends = "default"

[[rules]]
id = "deny-team-notes"
before = "deny-raw-secret-into-context"
effect = "deny"
reason = "team notes are off limits"
[rules.when]
syscalls = ["resource.read"]
targets = ["srv/note://team/*"]
`,
  );
  return { dir, policy };
}

async function why(args: string[], env: Record<string, string> = {}) {
  const ran = await runCli(['why', ...args], env);
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout;
}

describe('agentk why: wildcards and signers', () => {
  it('suggests no rule for a target holding a star, and the usual checked rule for a plain one', async () => {
    const { dir, policy } = notesPolicy();
    const session = binarySession(NOTES, { dir, args: ['--policy', policy] });
    await session.initialize();
    for (const uri of ['note://team/*', 'note://team/plan']) {
      const refused = await session.request('resources/read', { uri });
      expect(JSON.stringify(refused)).toContain('deny-team-notes');
    }
    await session.close();
    const brief = await why([session.trace, '--policy', policy]);
    const steps = [...brief.matchAll(/step (\d+) DENY resource\.read (\S+)/g)];
    const step = (target: string) => steps.find((m) => m[2] === target)?.[1] as string;

    const wild = await why([session.trace, step('srv/note://team/*'), '--policy', policy]);
    expect(wild).toContain('WARNING: the recorded target "srv/note://team/*" holds wildcard');
    expect(wild).toContain('Write a narrower rule by hand');
    expect(wild).not.toContain('[[rules]]');
    expect(wild).not.toContain('targets = ');
    expect(wild).not.toContain('Checked:');
    const json = JSON.parse(
      await why([session.trace, step('srv/note://team/*'), '--policy', policy, '--json']),
    );
    expect(json.rule_snippet).toBeNull();
    expect(json.check).toBeNull();
    expect(json.wildcards).toEqual([{ where: 'target', value: 'srv/note://team/*' }]);

    const plain = await why([session.trace, step('srv/note://team/plan'), '--policy', policy]);
    expect(plain).toContain('targets = ["srv/note://team/plan"]');
    expect(plain).toMatch(/Checked: under .* becomes allow:allow-why-step-\d+/);
    expect(plain).not.toContain('wildcard');
  }, 60_000);

  it('suggests no rule for a steered post to a host holding a star: only the one-off approval', async () => {
    const session = binarySession(STEERED, { serverId: 'web' });
    await session.initialize();
    await session.request('tools/list');
    await session.request('tools/call', {
      name: 'fetch_page',
      arguments: { url: 'https://a.example/' },
    });
    const post = await session.request('tools/call', {
      name: 'post_report',
      arguments: { url: WILD_URL, body: 'summary' },
    });
    expect(JSON.stringify(post)).toContain('ask-untrusted-steered-action');
    await session.close();
    const step = /step (\d+) ASK tool\.invoke web\/post_report/.exec(
      await why([session.trace]),
    )?.[1];
    const json = JSON.parse(await why([session.trace, step as string, '--json']));
    expect(json.wildcards).toEqual([{ where: 'hosts', value: '*.example.net' }]);
    expect(json.rule_snippet).toBeNull();
    expect(json.approve).toMatch(/^agentk approve [0-9a-f]{64}$/);
    const text = await why([session.trace, step as string]);
    expect(text).toContain('WARNING: the recorded hosts value "*.example.net" holds wildcard');
    expect(text).toContain(`Or allow this one request once: ${json.approve}`);
    expect(text).not.toContain('[[rules]]');
    expect(text).not.toContain('Checked:');
  }, 60_000);

  it('suggests no vouching for a source whose name holds a star, but still the rule', async () => {
    const script = JSON.parse(JSON.stringify(STEERED).replaceAll('fetch_page', 'fetch_*'));
    const calls = JSON.parse(JSON.stringify(script['tools/call']).replace(WILD_URL, STEERED_URL));
    const session = binarySession({ ...script, 'tools/call': calls }, { serverId: 'web' });
    await session.initialize();
    await session.request('tools/list');
    await session.request('tools/call', {
      name: 'fetch_*',
      arguments: { url: 'https://a.example/' },
    });
    await session.request('tools/call', {
      name: 'post_report',
      arguments: { url: STEERED_URL, body: 'summary' },
    });
    await session.close();
    const step = /step (\d+) ASK tool\.invoke web\/post_report/.exec(
      await why([session.trace]),
    )?.[1];
    const json = JSON.parse(await why([session.trace, step as string, '--json']));
    expect(json.wildcards).toEqual([{ where: 'source', value: 'web/fetch_*' }]);
    expect(json.vouch).toBeNull();
    expect(json.rule_snippet).toContain(`hosts = ["${new URL(STEERED_URL).host}"]`);
    const text = await why([session.trace, step as string]);
    expect(text).toContain('Not suggested: vouching for source "web/fetch_*"');
    expect(text).not.toContain('"web/fetch_*" = ["trusted"]');
    expect(text).toMatch(/Checked: under .* becomes allow:allow-why-step-\d+/);
  }, 60_000);

  it("names the trace's signer: the development key, this machine's key, or one from elsewhere", async () => {
    const dev = scratch();
    proxySession(dev.ws, dev.home);
    const devText = await why(['latest', '--workspace', dev.ws], { AGENTK_HOME: dev.home });
    expect(devText).toMatch(/sealed by ed25519:[0-9a-f]{16} \(the public development key/);

    const seed = generateSeedHex();
    const fingerprint = signerFromSeedHex(seed, 'environment').fingerprint;
    const mine = scratch();
    proxySession(mine.ws, mine.home, { env: { AGENTK_SIGNING_KEY_HEX: seed } });
    const home = { AGENTK_HOME: mine.home };
    const same = await why(['latest', '5', '--workspace', mine.ws], {
      ...home,
      AGENTK_SIGNING_KEY_HEX: seed,
    });
    expect(same).toContain(`sealed by ${fingerprint} (this machine's signing key)`);
    const other = generateSeedHex();
    const elsewhere = await why(['latest', '5', '--workspace', mine.ws], {
      ...home,
      AGENTK_SIGNING_KEY_HEX: other,
    });
    expect(elsewhere).toContain(
      `sealed by ${fingerprint} (NOT this machine's signing key (${signerFromSeedHex(other, 'environment').fingerprint}): a trace from elsewhere`,
    );
    const json = JSON.parse(await why(['latest', '--workspace', mine.ws, '--json'], home));
    expect(json.signer).toEqual({
      fingerprint,
      development: false,
      this_machine: false,
      active: expect.stringMatching(/^ed25519:/),
    });
  }, 60_000);
});
