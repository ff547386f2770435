// Policies that extend others (issue 14, item 8): `extends = "default"` and override one
// rule without copying the file; shipped server fragments combine with the default.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicyFile, parsePolicyText } from '../../src/policy/load.js';
import { SINK_DESTRUCTIVE, SINK_EGRESS, SINK_READ, SINK_WRITE } from '../../src/vocabulary.js';
import { DEFAULT_POLICY, memoryKernel, policyAt } from '../helpers/kernel.js';

const problems = (text: string, dir?: string): string => {
  try {
    parsePolicyText(text, 'child.toml', dir);
  } catch (error) {
    const e = error as { message: string; problems?: readonly string[] };
    return [e.message, ...(e.problems ?? [])].join('\n');
  }
  return 'accepted';
};

describe('extends', () => {
  const base = policyAt(DEFAULT_POLICY);

  it('is the parent policy when the child adds nothing', () => {
    const child = parsePolicyText('extends = "default"\n');
    expect(child.rules.map((r) => r.id)).toEqual(base.rules.map((r) => r.id));
    expect(child.agent).toEqual(base.agent);
    expect(child.grants).toEqual(base.grants);
  });

  it('replaces a rule by id where it stands, and adds new rules before the catch-all', () => {
    const child = parsePolicyText(
      [
        'extends = "default"',
        '[agent]',
        'id = "team-agent"',
        '[[rules]]',
        'id = "deny-untrusted-exec"',
        'effect = "ask"',
        'reason = "a person decides"',
        '[rules.when]',
        'sinks = ["exec"]',
        '[[rules]]',
        'id = "allow-team-mail"',
        'effect = "allow"',
        'reason = "mail to the team"',
        '[rules.when]',
        'targets = ["teammail/*"]',
        '',
      ].join('\n'),
    );
    const ids = child.rules.map((r) => r.id);
    const baseIds = base.rules.map((r) => r.id);
    expect(child.agent.id).toBe('team-agent');
    expect(ids.indexOf('deny-untrusted-exec')).toBe(baseIds.indexOf('deny-untrusted-exec'));
    expect(child.rules.find((r) => r.id === 'deny-untrusted-exec')?.effect).toBe('ask');
    expect(ids.at(-2)).toBe('allow-team-mail');
    expect(ids.at(-1)).toBe(baseIds.at(-1));
    expect(ids.length).toBe(baseIds.length + 1);
  });

  it('drops rules it names, joins sources and sinks, appends grants', () => {
    const child = parsePolicyText(
      [
        'extends = "default"',
        'drop_rules = ["ask-compromised-session-send"]',
        '[labels.sources]',
        '"wiki/*" = ["trusted"]',
        '[sinks]',
        'egress = ["teammail/*"]',
        '[capabilities]',
        'grant = ["tool.invoke:teammail/*"]',
        '',
      ].join('\n'),
    );
    expect(child.rules.map((r) => r.id)).not.toContain('ask-compromised-session-send');
    expect(child.sources.find((s) => s.pattern === 'wiki/*')?.labels).toEqual(['trusted']);
    expect(child.sources.length).toBe(base.sources.length + 1);
    expect(child.sinks.egress).toEqual([...(base.sinks.egress ?? []), 'teammail/*']);
    expect(child.grants).toEqual([...base.grants, 'tool.invoke:teammail/*']);
  });

  it('finds a path relative to the extending file, and chains', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-extends-'));
    writeFileSync(join(dir, 'team.toml'), 'extends = "default"\n[agent]\nid = "team"\n');
    writeFileSync(join(dir, 'me.toml'), 'extends = "./team.toml"\n[agent]\nid = "me"\n');
    expect(loadPolicyFile(join(dir, 'me.toml')).agent.id).toBe('me');
  });

  it('names what is wrong, in one line each', () => {
    expect(problems('extends = 3\n')).toMatch(/extends: extends must be a policy name or path/);
    expect(problems('extends = "no-such-profile"\n')).toMatch(/no-such-profile.*does not exist/);
    expect(problems('drop_rules = ["x"]\n[agent]\nid = "a"\n')).toMatch(/drop_rules needs extends/);
    expect(problems('extends = "default"\ndrop_rules = ["nope"]\n')).toMatch(
      /drop_rules: no rule "nope" in what this policy extends/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'agentk-extends-'));
    writeFileSync(join(dir, 'a.toml'), 'extends = "./b.toml"\n');
    writeFileSync(join(dir, 'b.toml'), 'extends = "./a.toml"\n');
    expect(problems('extends = "./a.toml"\n', dir)).toMatch(/loops back/);
  });
});

describe('server fragments', () => {
  const withFragment = (name: string) =>
    new CompiledPolicy(parsePolicyText(`extends = ["default", "servers/${name}"]\n`));

  it('each combines with the default into a valid policy', () => {
    for (const name of ['filesystem', 'git', 'memory', 'fetch', 'github']) {
      expect(() => withFragment(name), name).not.toThrow();
    }
  });

  it('classifies the tools of the server it is for', () => {
    expect(withFragment('filesystem').patternSinks('fs/move_file')).toBe(SINK_WRITE);
    expect(withFragment('memory').patternSinks('memory/delete_entities')).toBe(SINK_WRITE);
    expect(withFragment('fetch').patternSinks('web/fetch')).toBe(SINK_READ | SINK_EGRESS);
    expect(withFragment('github').patternSinks('github/merge_pull_request')).toBe(SINK_DESTRUCTIVE);
    expect(withFragment('git').patternSinks('git/git_reset')).toBe(SINK_DESTRUCTIVE);
  });

  it('git: a reset asks a person even on a clean session', () => {
    const { kernel } = memoryKernel({
      policy: parsePolicyText('extends = ["default", "servers/git"]\n'),
    });
    const result = kernel.syscall({
      kind: 'tool.invoke',
      target: 'git/git_reset',
      args: { mode: 'soft', target: 'HEAD~1' },
    });
    expect(result.rule).toBe('ask-git-discard-or-push');
  });
});

describe('before', () => {
  it('places a rule before another of the parent, and names an unknown one', () => {
    const rule = (before: string) =>
      [
        'extends = "default"',
        '[[rules]]',
        'id = "ask-deploys"',
        `before = "${before}"`,
        'effect = "ask"',
        'reason = "deploys need a person"',
        '[rules.when]',
        'targets = ["deploy/*"]',
        '',
      ].join('\n');
    const ids = parsePolicyText(rule('allow-capable-action')).rules.map((r) => r.id);
    expect(ids.indexOf('ask-deploys')).toBe(ids.indexOf('allow-capable-action') - 1);
    expect(problems(rule('nope'))).toMatch(
      /child\.toml: rule "ask-deploys": before = "nope" names no rule of what the policy extends/,
    );
    // A fragment whose rule goes before one of the default's, extended without it, is
    // named in the error too.
    expect(problems('extends = "servers/git"\n')).toMatch(
      /servers\/git\.toml: rule "ask-git-discard-or-push": before = "allow-capable-action" names no rule/,
    );
  });
});

describe('a shared ancestor', () => {
  it('is refused rather than merged twice (it would undo the first branch)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-extends-'));
    writeFileSync(
      join(dir, 'team.toml'),
      'extends = "default"\ndrop_rules = ["ask-compromised-session-send"]\n',
    );
    writeFileSync(join(dir, 'extra.toml'), 'extends = "default"\n');
    expect(problems('extends = ["./team.toml", "./extra.toml"]\n', dir)).toMatch(
      /extends "default", which .*team\.toml already brings in: list each policy once/,
    );
  });
});
