import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentkError } from '../../src/errors.js';
import { loadPolicyFile, parsePolicyText } from '../../src/policy/load.js';

const TAIL = `
[[rules]]
id = "default-deny"
effect = "deny"
reason = "denied by default"
`;
const HEAD = `[agent]\nid = "t"\n`;

/** Every problem line for a policy text, or [] when it parses. */
function problems(text: string): string[] {
  try {
    parsePolicyText(text, 'p.toml');
    return [];
  } catch (error) {
    if (!(error instanceof AgentkError)) throw error;
    expect(error.code).toBe('POLICY_INVALID');
    return error.problems.length > 0 ? [...error.problems] : [error.message];
  }
}

describe('parsePolicyText', () => {
  it('accepts a minimal policy: an agent and a catch-all deny', () => {
    expect(problems(HEAD + TAIL)).toEqual([]);
  });

  const cases: [string, string, RegExp][] = [
    ['a misspelt top-level key', `${HEAD}[rulez]\n${TAIL}`, /^p\.toml: rulez: unknown key$/],
    [
      'a misspelt condition key',
      `${HEAD}[[rules]]\nid="a"\neffect="allow"\nreason="r"\n[rules.when]\nlabel_any=["secret"]\n${TAIL}`,
      /rules\[0\]\.when\.label_any: unknown key/,
    ],
    [
      'an unknown label',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason="r"\n[rules.when]\nlabels_any=["untrustd"]\n${TAIL}`,
      /rules\[0\]\.when\.labels_any\[0\]: unknown label "untrustd"/,
    ],
    [
      'an unknown syscall',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason="r"\n[rules.when]\nsyscalls=["tool.call"]\n${TAIL}`,
      /rules\[0\]\.when\.syscalls\[0\]: unknown syscall "tool\.call"/,
    ],
    [
      'an unknown sink class',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason="r"\n[rules.when]\nsinks=["network"]\n${TAIL}`,
      /rules\[0\]\.when\.sinks\[0\]: unknown sink class "network"/,
    ],
    [
      'an unknown effect',
      `${HEAD}[[rules]]\nid="a"\neffect="permit"\nreason="r"\n${TAIL}`,
      /rules\[0\]\.effect: expected "allow", "deny" or "ask", got "permit"/,
    ],
    [
      'a wrong type',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason=7\n[rules.when]\nsyscalls=["tool.invoke"]\n${TAIL}`,
      /rules\[0\]\.reason: expected string, got number 7/,
    ],
    [
      'a list where a string belongs',
      `[agent]\nid=["x"]\n${TAIL}`,
      /agent\.id: expected string, got an array/,
    ],
    ['a missing agent', TAIL, /agent: missing required key/],
    ['no rules at all', HEAD, /rules: missing required key/],
    [
      'a duplicate rule id',
      `${HEAD}[[rules]]\nid="x"\neffect="deny"\nreason="r"\n[rules.when]\nsyscalls=["tool.invoke"]\n[[rules]]\nid="x"\neffect="deny"\nreason="r"\n[rules.when]\nsyscalls=["network.send"]\n${TAIL}`,
      /rules\[1\]\.id: duplicate rule id "x" \(first used at rules\[0\]\)/,
    ],
    [
      'a rule after the catch-all',
      `${HEAD}${TAIL}[[rules]]\nid="late"\neffect="allow"\nreason="r"\n[rules.when]\nsyscalls=["tool.invoke"]\n${TAIL.replace('default-deny', 'default-deny-2')}`,
      /rules\[1\]: rule "late" can never fire: rules\[0\] \("default-deny"\) matches everything it matches/,
    ],
    [
      'a rule shadowed by a broader one',
      `${HEAD}[[rules]]\nid="broad"\neffect="deny"\nreason="r"\n[rules.when]\nlabels_any=["secret"]\n[[rules]]\nid="narrow"\neffect="allow"\nreason="r"\n[rules.when]\nsyscalls=["tool.invoke"]\nlabels_all=["secret","private"]\n${TAIL}`,
      /rules\[1\]: rule "narrow" can never fire: rules\[0\] \("broad"\)/,
    ],
    [
      'contradictory label conditions',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason="r"\n[rules.when]\nlabels_all=["secret"]\nlabels_none=["secret"]\n${TAIL}`,
      /rules\[0\]: rule "a" can never fire: no label set satisfies/,
    ],
    [
      'trusted required together with untrusted',
      `${HEAD}[[rules]]\nid="a"\neffect="allow"\nreason="r"\n[rules.when]\nlabels_all=["trusted","untrusted"]\n${TAIL}`,
      /can never fire: no label set satisfies/,
    ],
    [
      'a sink no listed syscall can reach',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason="r"\n[rules.when]\nsyscalls=["context.read"]\nsinks=["exec"]\n${TAIL}`,
      /rule "a" can never fire: none of its syscalls can reach sinks/,
    ],
    [
      'sinks required and excluded at once',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason="r"\n[rules.when]\nsinks=["egress"]\nsinks_none=["egress"]\n${TAIL}`,
      /rule "a" can never fire: none of its syscalls can reach sinks \["egress"\] without \["egress"\]/,
    ],
    [
      'a rule shadowed through sinks_none',
      `${HEAD}[[rules]]\nid="wide"\neffect="deny"\nreason="r"\n[rules.when]\nsinks_none=["read"]\n[[rules]]\nid="narrow"\neffect="deny"\nreason="r"\n[rules.when]\nsinks=["exec"]\nsinks_none=["read","write"]\n${TAIL}`,
      /rule "narrow" can never fire: rules\[0\] \("wide"\)/,
    ],
    [
      'an empty list',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason="r"\n[rules.when]\nsyscalls=[]\n${TAIL}`,
      /rules\[0\]\.when\.syscalls: empty list/,
    ],
    [
      'no final catch-all deny',
      `${HEAD}[[rules]]\nid="a"\neffect="allow"\nreason="r"\n`,
      /rules\[0\]: the policy must end with an explicit catch-all deny rule/,
    ],
    [
      'a final catch-all that allows',
      `${HEAD}[[rules]]\nid="a"\neffect="allow"\nreason="r"\n`,
      /catch-all deny/,
    ],
    [
      'a capability naming no syscall',
      `${HEAD}[capabilities]\ngrant=["tool.call:*"]\n${TAIL}`,
      /capabilities\.grant\[0\]: capability must be "<syscall>:<target pattern>"/,
    ],
    [
      'a capability with regex metacharacters',
      `${HEAD}[capabilities]\ngrant=["(tool.invoke:*"]\n${TAIL}`,
      /capabilities\.grant\[0\]: capability must be/,
    ],
    [
      'a source pattern with an unknown label',
      `${HEAD}[labels.sources]\n"https://*" = ["external", "nasty"]\n${TAIL}`,
      /labels\.sources\["https:\/\/\*"\]\[1\]: unknown label "nasty"/,
    ],
    [
      'an unsupported version',
      `version = 2\n${HEAD}${TAIL}`,
      /version: only version = 1 is supported/,
    ],
    ['a bad agent id', `[agent]\nid = "has spaces"\n${TAIL}`, /agent\.id: agent id must be/],
    ['invalid TOML', `${HEAD}[[rules]\n`, /^p\.toml:\d+:\d+: not valid TOML/],
    [
      'a rule that earlier rules cover only together',
      `${HEAD}[[rules]]\nid="with"\neffect="allow"\nreason="r"\n[rules.when]\nsyscalls=["secret.open"]\ncapability="present"\n[[rules]]\nid="without"\neffect="deny"\nreason="r"\n[rules.when]\nsyscalls=["secret.open"]\ncapability="missing"\n[[rules]]\nid="late"\neffect="deny"\nreason="r"\n[rules.when]\nsyscalls=["secret.open"]\nlabels_any=["secret"]\n${TAIL}`,
      /rules\[2\]: rule "late" can never fire: earlier rules "with", "without" together match everything it matches/,
    ],
    [
      'a rule id in the kernel namespace',
      `${HEAD}[[rules]]\nid="kernel.mine"\neffect="deny"\nreason="r"\n[rules.when]\nsyscalls=["tool.invoke"]\n${TAIL}`,
      /rules\[0\]\.id: rule ids starting with "kernel\." are reserved/,
    ],
    [
      'control labels no syscall can carry',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason="r"\n[rules.when]\nlabels_none=["untrusted"]\ncontrol_labels_any=["untrusted"]\n${TAIL}`,
      /rule "a" can never fire: no label set satisfies its label conditions/,
    ],
    [
      'a non-string label',
      `${HEAD}[[rules]]\nid="a"\neffect="deny"\nreason="r"\n[rules.when]\nlabels_any=[1]\n${TAIL}`,
      /labels_any\[0\]: expected a label name, got number 1/,
    ],
  ];

  for (const [name, text, expected] of cases) {
    it(`rejects ${name} with a line naming it`, () => {
      const lines = problems(text);
      expect(
        lines.some((line) => expected.test(line)),
        lines.join('\n'),
      ).toBe(true);
      for (const line of lines) expect(line).not.toMatch(/\n|at .*\(.*:\d+:\d+\)/);
    });
  }

  it('reports every problem at once, not only the first', () => {
    const lines = problems(
      `[agent]\nid="t"\nextra=1\n[[rules]]\nid="a"\neffect="nope"\nreason="r"\n[rules.when]\nlabels_any=["bad"]\n`,
    );
    expect(lines.length).toBeGreaterThanOrEqual(3);
  });

  it('rejects deep nesting with one line, without overflowing the stack', () => {
    const deep = `${HEAD}x = ${'['.repeat(50_000)}${']'.repeat(50_000)}\n${TAIL}`;
    const lines = problems(deep);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/nested/);
  });

  it('rejects moderately deep inline tables that still parse', () => {
    const deep = `${HEAD}x = ${'{a='.repeat(40)}1${'}'.repeat(40)}\n${TAIL}`;
    expect(problems(deep)[0]).toMatch(/nested deeper than 16 levels/);
  });
});

describe('loadPolicyFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentk-policy-'));

  function fails(bytes: string | Buffer, code: string, message: RegExp): void {
    const path = join(dir, `p-${Math.random().toString(16).slice(2)}.toml`);
    writeFileSync(path, bytes);
    try {
      loadPolicyFile(path);
      expect.unreachable('policy should have been rejected');
    } catch (error) {
      expect(error).toBeInstanceOf(AgentkError);
      expect((error as AgentkError).code).toBe(code);
      expect((error as AgentkError).message).toMatch(message);
    }
  }

  it('rejects a file that is not UTF-8', () => {
    fails(Buffer.from([0x5b, 0x61, 0x67, 0xff, 0xfe, 0x5d]), 'NOT_UTF8', /is not valid UTF-8/);
  });

  it('rejects an oversized file before reading it', () => {
    fails(`# ${'x'.repeat(1024 * 1024 + 10)}\n`, 'FILE_TOO_LARGE', /limit is 1048576 bytes/);
  });

  it('rejects binary garbage as TOML with a position', () => {
    fails(Buffer.from('\u0000\u0001\u0002 = = ='), 'POLICY_INVALID', /not valid TOML/);
  });

  it('names a missing file', () => {
    try {
      loadPolicyFile(join(dir, 'absent.toml'));
      expect.unreachable();
    } catch (error) {
      expect((error as AgentkError).code).toBe('FILE_NOT_FOUND');
      expect((error as AgentkError).message).toMatch(/absent\.toml does not exist/);
    }
  });

  it('refuses a directory', () => {
    try {
      loadPolicyFile(dir);
      expect.unreachable();
    } catch (error) {
      expect((error as AgentkError).code).toBe('FILE_UNREADABLE');
    }
  });
});
