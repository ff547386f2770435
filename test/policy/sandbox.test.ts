// The policy's [sandbox.<server-id>] tables: defaults filled in, every problem one line
// with its path, and a policy without one unchanged (no sandbox member at all).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentkError } from '../../src/errors.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { DEFAULT_LIMITS } from '../../src/sandbox/profile.js';

const BASE = `[agent]\nid = "t"\n\n[[rules]]\nid = "default-deny"\neffect = "deny"\nreason = "no"\n`;

function problems(text: string): string[] {
  try {
    parsePolicyText(text, 'p.toml');
    return [];
  } catch (error) {
    if (!(error instanceof AgentkError)) throw error;
    return [...error.problems];
  }
}

describe('[sandbox.<server-id>] in a policy', () => {
  it('is absent from a policy that has none', () => {
    expect('sandbox' in parsePolicyText(BASE, 'p.toml')).toBe(false);
  });

  it('gives each named server a profile, defaults filled in', () => {
    const policy = parsePolicyText(
      `${BASE}\n[sandbox.fs]\nworkspace = "ro"\nread = ["/opt/data/"]\n[sandbox.fs.limits]\ncpu_seconds = 5\ncpu_percent = 50\n\n[sandbox.git]\nmode = "best-effort"\n`,
      'p.toml',
    );
    expect(policy.sandbox).toEqual({
      fs: {
        mode: 'required',
        workspace: 'ro',
        read: ['/opt/data'],
        write: [],
        network: [],
        limits: { ...DEFAULT_LIMITS, cpuSeconds: 5, cpuPercent: 50 },
      },
      git: {
        mode: 'best-effort',
        workspace: 'rw',
        read: [],
        write: [],
        network: [],
        limits: DEFAULT_LIMITS,
      },
    });
  });

  it('refuses unknown keys, relative paths, a network it cannot enforce and limits out of range, one line each', () => {
    const lines = problems(
      `${BASE}\n[sandbox.fs]\nworkspce = "ro"\nwrite = ["data", "/a/../b"]\nnetwork = "all"\n[sandbox.fs.limits]\nmemory_mib = 1\nthreads = 4\ncpu_percent = 0\n`,
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'p.toml: sandbox.fs.workspce: unknown key',
        'p.toml: sandbox.fs.write[0]: a sandbox path is absolute and not "/"',
        'p.toml: sandbox.fs.write[1]: a sandbox path has no "." or ".." components',
        'p.toml: sandbox.fs.network: expected "none" or a list of "host:port" entries',
        'p.toml: sandbox.fs.limits.memory_mib: at least 64',
        'p.toml: sandbox.fs.limits.threads: unknown key',
        'p.toml: sandbox.fs.limits.cpu_percent: at least 1',
      ]),
    );
    expect(lines).toHaveLength(7);
    expect(problems(`${BASE}\n[sandbox."bad id!"]\n`)).toEqual([
      expect.stringMatching(/^p\.toml: sandbox.*a server id is 1-64/),
    ]);
  });

  it('reads a network allow-list of host:port entries, and refuses any other form, one line each', () => {
    const policy = parsePolicyText(
      `${BASE}\n[sandbox.fetch]\nnetwork = ["API.GitHub.com:443", "localhost:8080", "[::1]:80", "10.0.0.7:5432"]\n`,
      'p.toml',
    );
    expect(policy.sandbox?.fetch?.network).toEqual([
      { host: 'api.github.com', port: 443 },
      { host: 'localhost', port: 8080 },
      { host: '::1', port: 80 },
      { host: '10.0.0.7', port: 5432 },
    ]);
    expect(
      parsePolicyText(`${BASE}\n[sandbox.f]\nnetwork = "none"\n`, 'p.toml').sandbox?.f?.network,
    ).toEqual([]);
    expect(
      problems(
        `${BASE}\n[sandbox.f]\nnetwork = ["api.github.com", "h:0", "bad host:80", "*.github.com:443", "https://h:443"]\n`,
      ),
    ).toEqual([
      'p.toml: sandbox.f.network[0]: a network entry is "host:port" ("[::1]:port" for IPv6)',
      'p.toml: sandbox.f.network[1]: a port is 1 to 65535',
      'p.toml: sandbox.f.network[2]: "bad host" is not a host name',
      'p.toml: sandbox.f.network[3]: "*.github.com" is not a host name',
      'p.toml: sandbox.f.network[4]: a network entry is "host:port" ("[::1]:port" for IPv6)',
    ]);
  });

  it('joins across extends, the child winning for the same server', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-sandbox-extends-'));
    writeFileSync(
      join(dir, 'parent.toml'),
      `${BASE}\n[sandbox.fs]\nworkspace = "ro"\n\n[sandbox.git]\nmode = "best-effort"\n`,
    );
    const child = parsePolicyText(
      'extends = "./parent.toml"\n[sandbox.fs]\nworkspace = "none"\n',
      'child.toml',
      dir,
    );
    expect(child.sandbox?.fs?.workspace).toBe('none');
    expect(child.sandbox?.git?.mode).toBe('best-effort');
  });
});
