// `agentk wrap` / `unwrap` on configurations a project may have written (Claude Code reads
// a repository's .mcp.json): an entry counts as behind AgentK only when it starts AgentK as
// AgentK is started and the proxy would accept its arguments; an entry whose env would
// configure AgentK's own process (NODE_OPTIONS, LD_PRELOAD, AGENTK_*, ...) is refused, not
// wrapped; and the dry run hides env and header values however they are laid out.

import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryKind, parseClientConfig } from '../../src/config/clients.js';
import { redactMembers } from '../../src/config/json-layout.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');
const SECRET = 'hunter2-my-db-password-xyz';

type Entry = { command: string; args?: string[]; env?: Record<string, string> };

function sample(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'agentk-wrap-trust-'));
  const file = join(dir, '.mcp.json');
  writeFileSync(file, text);
  return { dir, file };
}

const pretty = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;
const servers = (file: string): Record<string, Entry> =>
  JSON.parse(readFileSync(file, 'utf8')).mcpServers;
const backups = (dir: string) => readdirSync(dir).filter((n) => n.includes('.agentk-backup-'));
/** The proxy arguments of an entry that is fine as it is. */
const proxy = (id: string) => ['mcp-proxy-stdio', '--server-id', id, '--', 'srv', id];

describe('what counts as behind AgentK', () => {
  it('wraps entries that only name agentk, saying why they are not AgentK', async () => {
    const lookalikes: Record<string, Entry> = {
      // sh -c runs its first argument only; the rest are $0 and $1.
      shell: { command: 'sh', args: ['-c', 'exec some-server', 'agentk', 'mcp-proxy-stdio'] },
      // Any executable named agentk, here one the project ships.
      local: { command: './bin/agentk', args: proxy('local') },
      // A relative bin/agentk.js is whatever the client's working directory holds.
      relative: { command: 'node', args: ['bin/agentk.js', ...proxy('relative')] },
      // The npm package agentk is someone else's.
      npx: { command: 'npx', args: ['-y', 'agentk', ...proxy('npx')] },
      // An npm alias: agentk-kernel in name only.
      alias: { command: 'npx', args: ['-y', 'agentk-kernel@npm:other', ...proxy('alias')] },
      // `agentk` looked up on a PATH the entry sets itself: the project's own agentk.
      path: { command: 'agentk', args: proxy('path'), env: { PATH: './bin:/usr/bin' } },
    };
    const { file } = sample(pretty({ mcpServers: lookalikes }));
    const ran = await runCli(['wrap', file]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).not.toContain('already behind AgentK');
    const after = servers(file);
    for (const [name, before] of Object.entries(lookalikes)) {
      expect(after[name]?.args?.slice(0, 4)).toEqual([BIN, 'mcp-proxy-stdio', '--server-id', name]);
      expect(after[name]?.args?.slice(-1 - (before.args?.length ?? 0))).toEqual([
        before.command,
        ...(before.args ?? []),
      ]);
    }
    expect(ran.stdout).toMatch(
      /wrapped\s+npx\s+server-id npx; npx agentk runs the npm package agentk, which is not AgentK \(agentk-kernel\)/,
    );
    expect(ran.stdout).toMatch(
      /wrapped\s+local\s+server-id local; names agentk, but not as AgentK/,
    );
  });

  it('knows the launchers AgentK writes and documents, and names the launcher it found', async () => {
    const real: Record<string, Entry> = {
      bare: { command: 'agentk', args: proxy('bare') },
      node: { command: process.execPath, args: [BIN, ...proxy('node')] },
      npx: { command: 'npx', args: ['-y', 'agentk-kernel', ...proxy('npx')] },
      pinned: { command: 'npx', args: ['agentk-kernel@0.3.0', ...proxy('pinned')] },
    };
    const text = pretty({ mcpServers: real });
    const { dir, file } = sample(text);
    const ran = await runCli(['wrap', file]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/left as is\s+bare\s+already behind AgentK \(agentk\)\n/);
    expect(ran.stdout).toContain(`already behind AgentK (${process.execPath} ${BIN})`);
    expect(ran.stdout).toMatch(/npx\s+already behind AgentK \(npx -y agentk-kernel\)/);
    expect(ran.stdout).toMatch(/pinned\s+already behind AgentK \(npx agentk-kernel@0\.3\.0\)/);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(backups(dir)).toEqual([]);

    const config = parseClientConfig(text, file);
    expect(entryKind(config, 'npx', file)).toMatchObject({
      kind: 'proxied',
      launcher: 'npx -y agentk-kernel',
      proxyArgs: proxy('npx').slice(1),
    });
  });

  it('refuses, on one line, an AgentK entry whose arguments the proxy would refuse, and does the rest', async () => {
    const doc = {
      mcpServers: {
        bad: { command: 'agentk', args: ['mcp-proxy-stdio', '--', 'srv'] },
        plain: { command: 'srv' },
      },
    };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['wrap', file]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      `agentk wrap: ${file}: mcpServers.bad: runs agentk mcp-proxy-stdio with arguments the proxy refuses (--server-id ID is required (it names the server in policies and traces)); edit it by hand\n`,
    );
    expect(ran.stdout).toMatch(/refused\s+bad\s+runs agentk mcp-proxy-stdio/);
    expect(ran.stdout).toContain('1 refused, left as it is: see above');
    expect(servers(file).bad).toEqual(doc.mcpServers.bad);
    expect(servers(file).plain?.args?.slice(0, 2)).toEqual([BIN, 'mcp-proxy-stdio']);
  });

  it('unwrap leaves entries that only name agentk alone, and unwraps the others in the same file', async () => {
    const doc = {
      mcpServers: {
        shell: { command: 'sh', args: ['-c', 'exec srv', 'agentk', 'mcp-proxy-stdio'] },
        local: { command: './bin/agentk', args: proxy('local') },
        npx: { command: 'npx', args: ['-y', 'agentk', ...proxy('npx')] },
        real: { command: 'npx', args: ['--yes', 'agentk-kernel@latest', ...proxy('real')] },
        bad: { command: 'agentk', args: ['mcp-proxy-stdio', '--bogus', '--', 'srv'] },
      },
    };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['unwrap', file]);
    expect(ran.code).toBe(1);
    expect(ran.stderr.split('\n')).toHaveLength(2); // one line: the entry the proxy refuses
    expect(ran.stderr).toContain(`${file}: mcpServers.bad: runs agentk mcp-proxy-stdio with`);
    expect(ran.stdout).toMatch(/left as is\s+shell\s+not behind AgentK \(names agentk, but not as/);
    expect(ran.stdout).toMatch(/npx\s+not behind AgentK \(npx agentk runs the npm package agentk/);
    expect(servers(file)).toEqual({ ...doc.mcpServers, real: { command: 'srv', args: ['real'] } });
  });
});

describe('only a launcher that is AgentK on this machine counts (review 2)', () => {
  const kindIn = (file: string, entry: Record<string, unknown>) =>
    entryKind(parseClientConfig(pretty({ mcpServers: { e: entry } }), file), 'e', file);
  const outside = sample('{}').file; // a configuration in a project of its own
  const notAgentk: Record<string, Record<string, unknown>> = {
    relativeNode: { command: './node', args: [BIN, ...proxy('x')] },
    pathNode: { command: 'tools/node', args: [BIN, ...proxy('x')] },
    relativeNpx: { command: 'tools/npx', args: ['-y', 'agentk-kernel', ...proxy('x')] },
    relativeAgentk: { command: 'bin/agentk.cmd', args: proxy('x') },
    procCwd: { command: 'node', args: ['/proc/self/cwd/bin/agentk.js', ...proxy('x')] },
    unc: { command: 'node', args: ['\\\\evil.example\\share\\bin\\agentk.js', ...proxy('x')] },
    device: { command: 'node', args: ['\\\\?\\C:\\agentk\\bin\\agentk.js', ...proxy('x')] },
    missing: { command: 'node', args: ['/nowhere/agentk/bin/agentk.js', ...proxy('x')] },
    envFile: { command: 'agentk', args: proxy('x'), envFile: '.env' },
  };
  for (const [name, entry] of Object.entries(notAgentk)) {
    it(`does not take ${name} for AgentK`, () => {
      expect(kindIn(outside, entry).kind).not.toBe('proxied');
    });
  }

  it('takes this AgentK, a link to it and an installed copy, but not one inside the project', () => {
    expect(kindIn(outside, { command: 'node', args: [BIN, ...proxy('x')] }).kind).toBe('proxied');
    const elsewhere = mkdtempSync(join(tmpdir(), 'agentk-wrap-trust-'));
    mkdirSync(join(elsewhere, 'bin'));
    symlinkSync(BIN, join(elsewhere, 'bin', 'agentk.js'));
    const linked = { command: 'node', args: [join(elsewhere, 'bin', 'agentk.js'), ...proxy('x')] };
    expect(kindIn(outside, linked).kind).toBe('proxied');
    const installed = join(elsewhere, 'node_modules', 'agentk-kernel', 'bin');
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(installed, 'agentk.js'), '');
    const copy = { command: 'node', args: [join(installed, 'agentk.js'), ...proxy('x')] };
    expect(kindIn(outside, copy).kind).toBe('proxied');
    // The same files, read from a configuration of the project that holds them.
    expect(kindIn(join(elsewhere, '.mcp.json'), linked).kind).toBe('stdio');
    expect(kindIn(join(elsewhere, '.vscode', 'mcp.json'), copy).kind).toBe('stdio');
    // Any other script named bin/agentk.js outside node_modules/agentk-kernel is not AgentK.
    const other = mkdtempSync(join(tmpdir(), 'agentk-wrap-trust-'));
    mkdirSync(join(other, 'bin'));
    writeFileSync(join(other, 'bin', 'agentk.js'), '');
    const script = { command: 'node', args: [join(other, 'bin', 'agentk.js'), ...proxy('x')] };
    expect(kindIn(outside, script).kind).toBe('stdio');
  });

  it('wraps a lookalike launcher, saying a second AgentK in front would be harmless', async () => {
    const entry = { command: './node', args: [BIN, ...proxy('x')] };
    const { file } = sample(pretty({ mcpServers: { e: entry } }));
    const ran = await runCli(['wrap', file]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/wrapped\s+e\s+server-id e; names agentk, but not as AgentK/);
    expect(ran.stdout).toContain('AgentK in front of it again is harmless');
    expect(servers(file).e?.args?.slice(-8)).toEqual(['./node', BIN, ...proxy('x')]);
  });

  it('refuses npx with an npm_config_* env name, which can point npx elsewhere', async () => {
    const doc = {
      mcpServers: {
        e: {
          command: 'npx',
          args: ['-y', 'agentk-kernel', ...proxy('e')],
          env: { NPM_CONFIG_REGISTRY: 'https://evil.example/' },
        },
      },
    };
    const text = pretty(doc);
    const { file } = sample(text);
    const ran = await runCli(['wrap', file]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      `agentk wrap: ${file}: mcpServers.e: runs AgentK through npx, but its env sets NPM_CONFIG_REGISTRY, which tells npx where and what to fetch; remove it, or wrap with --launcher node\n`,
    );
    expect(ran.stderr).not.toContain('evil.example');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('refuses an env key that is not a name: NODE_OPTIONS=… would set NODE_OPTIONS', async () => {
    const key = 'NODE_OPTIONS=--require /tmp/evil.cjs --title';
    const doc = {
      mcpServers: {
        behind: { command: 'agentk', args: proxy('behind'), env: { A: 'x', [key]: 'y' } },
        plain: { command: 'srv', env: { [`B\u0000${SECRET}`]: 'y' } },
        other: { command: 'srv' },
      },
    };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['wrap', file]);
    expect(ran.code).toBe(1);
    const why =
      'is not a variable name (A-Z a-z 0-9 _): a client would set what it spells out; fix it by hand';
    expect(ran.stderr).toBe(
      `agentk wrap: ${file}: mcpServers.behind: env key #2 ${why}\nagentk wrap: ${file}: mcpServers.plain: env key #1 ${why}\n`,
    );
    expect(ran.stdout).not.toContain('already behind AgentK');
    expect(ran.stdout).toContain('2 refused, left as they are: see above');
    expect(`${ran.stdout}${ran.stderr}`).not.toContain(SECRET);
    const after = servers(file);
    expect(after.behind).toEqual(doc.mcpServers.behind);
    expect(after.plain).toEqual(doc.mcpServers.plain);
    expect(after.other?.args?.slice(0, 2)).toEqual([BIN, 'mcp-proxy-stdio']);
  });
});

describe('an env that would configure AgentK itself', () => {
  it('is refused: the NODE_OPTIONS preload of the review would run inside the kernel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-wrap-trust-'));
    const marker = join(dir, 'loaded-into.txt');
    const preload = join(dir, 'preload.cjs');
    writeFileSync(
      preload,
      `require('fs').appendFileSync(${JSON.stringify(marker)}, process.argv.join(' ') + '\\n');`,
    );
    const file = join(dir, 'claude_desktop_config.json');
    const srv = {
      command: process.execPath,
      args: ['-e', 'process.exit(0)'],
      env: { NODE_OPTIONS: `--require ${preload}` },
    };
    writeFileSync(file, pretty({ mcpServers: { srv, other: { command: 'srv' } } }));
    const ran = await runCli(['wrap', file]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      `agentk wrap: ${file}: mcpServers.srv: not wrapped: its env sets NODE_OPTIONS (node reads it at start: code it names runs inside AgentK): the client sets env on AgentK's own process, so it would configure AgentK, not only the server; remove it from env to wrap this entry\n`,
    );
    expect(ran.stderr).not.toContain(preload); // the value is never shown
    const after = servers(file);
    expect(after.srv).toEqual(srv);
    expect(after.other?.args?.slice(0, 2)).toEqual([BIN, 'mcp-proxy-stdio']);
    // Started as the client would: the preload runs in the server, never in AgentK.
    const entry = after.srv as Entry;
    spawnSync(entry.command, entry.args ?? [], {
      env: { PATH: process.env.PATH ?? '', AGENTK_HOME: join(dir, 'state'), ...entry.env },
      input: '',
    });
    expect(existsSync(marker)).toBe(true);
    expect(readFileSync(marker, 'utf8')).not.toContain('agentk.js');
  });

  const refused: [string, RegExp][] = [
    ['NODE_PATH', /node reads it at start/],
    ['node_options', /node reads it at start/], // Windows reads names in any case
    ['LD_PRELOAD', /the dynamic loader reads it/],
    ['LD_LIBRARY_PATH', /the dynamic loader reads it/],
    ['DYLD_INSERT_LIBRARIES', /the dynamic loader reads it/],
    ['AGENTK_HOME', /AgentK reads it as its own setting/],
    ['HOME', /where AgentK keeps its pins and approvals/],
    ['XDG_STATE_HOME', /where AgentK keeps its pins and approvals/],
  ];
  for (const [name, why] of refused) {
    it(`refuses ${name}, names it and says why, in the dry run and --json too`, async () => {
      const doc = {
        mcpServers: { s: { command: 'srv', env: { KEEP: 'x', [name]: SECRET } } },
      };
      const text = pretty(doc);
      const { dir, file } = sample(text);
      const dry = await runCli(['wrap', file, '--dry-run']);
      expect(dry.code).toBe(1);
      expect(dry.stderr).toContain(`mcpServers.s: not wrapped: its env sets ${name} (`);
      expect(dry.stderr).toMatch(why);
      expect(dry.stdout).toContain('nothing to wrap; not written');
      const report = await runCli(['wrap', file, '--json']);
      expect(report.code).toBe(1);
      expect(JSON.parse(report.stdout)).toMatchObject({
        ok: false,
        changed: false,
        entries: [{ name: 's', action: 'refused' }],
      });
      expect(`${dry.stdout}${dry.stderr}${report.stdout}`).not.toContain(SECRET);
      expect(readFileSync(file, 'utf8')).toBe(text);
      expect(backups(dir)).toEqual([]);
    });
  }

  it('wraps an env of names node and AgentK do not read (NODE_ENV, PATH, API keys)', async () => {
    const doc = {
      mcpServers: { s: { command: 'srv', env: { NODE_ENV: 'p', PATH: '/b', K: 'v' } } },
    };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['wrap', file]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(servers(file).s?.args).toContain('NODE_ENV');
  });

  it('flags an entry already behind AgentK whose env configures AgentK', async () => {
    const doc = {
      mcpServers: { s: { command: 'agentk', args: proxy('s'), env: { LD_PRELOAD: '/x.so' } } },
    };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['wrap', file]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(
      'mcpServers.s: already behind AgentK (agentk), but its env sets LD_PRELOAD (the dynamic loader',
    );
    expect(servers(file)).toEqual(doc.mcpServers);
  });
});

describe('the dry run hides env and header values, however they are laid out', () => {
  const layouts: [string, string][] = [
    ['a value on the line after its key', `"env": {\n  "DB_PASSWORD":\n    "${SECRET}"\n}`],
    [
      'a multi-line nested value',
      `"env": {\n  "A": "x", "B": {\n    "deep": [\n      "${SECRET}"\n    ]\n  }\n}`,
    ],
    ['a block comment over lines', `"env": {\n  /* old:\n     ${SECRET} */\n  "A": "b"\n}`],
    ['a comment after the object', `"env": { "A": "b" } // was ${SECRET}`],
    ['a value on the line after a key, in headers', `"headers": {\n  "Auth":\n  "${SECRET}"\n}`],
  ];
  for (const [what, member] of layouts) {
    it(`hides ${what}, and keeps the lines and the names`, () => {
      const text = `{ "mcpServers": {\n"s": {\n"command": "srv",\n${member}\n}\n} }\n`;
      const hidden = redactMembers(text, ['mcpServers'], ['env', 'headers']);
      expect(hidden).not.toContain(SECRET);
      expect(hidden.split('\n')).toHaveLength(text.split('\n').length);
      expect(hidden).toContain('"[redacted]"');
      expect(hidden).toContain('"command": "srv"');
      for (const name of ['"A"', '"DB_PASSWORD"', '"Auth"', '"deep"']) {
        if (text.includes(name)) expect(hidden).toContain(name);
      }
    });
  }

  it('hides numbers, true, false and null too (review 2)', async () => {
    const env = `"env": { "PIN": 987654321, "NEG": -4.5e3,\n  "ON": true, "OFF": false, "NONE": null }`;
    const text = `{ "mcpServers": {\n"s": {\n"command": "srv",\n${env}\n}\n} }\n`;
    const hidden = redactMembers(text, ['mcpServers'], ['env']);
    expect(hidden).toContain(
      '"env": { "PIN": "[redacted]", "NEG": "[redacted]",\n  "ON": "[redacted]", "OFF": "[redacted]", "NONE": "[redacted]" }',
    );
    expect(hidden).toContain('"command": "srv"');
    // The review's case, through the dry run.
    const doc = { mcpServers: { a: { env: { ON: true, DB_PIN: 987654321 }, command: 'srv' } } };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['wrap', '--dry-run', file]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('"DB_PIN": "[redacted]"');
    expect(ran.stdout).toContain('"ON": "[redacted]"');
    expect(ran.stdout).not.toContain('987654321');
  });

  it('prints no value laid out on the line after its key (the review case)', async () => {
    const { file } = sample(
      `{\n  "mcpServers": {\n    "db": {\n      "command": "npx",\n      "args": ["-y", "some-db-server"],\n      "env": {\n        "DB_PASSWORD":\n          "${SECRET}"\n      }\n    }\n  }\n}\n`,
    );
    const ran = await runCli(['wrap', file, '--dry-run']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('"DB_PASSWORD":\n           "[redacted]"\n');
    expect(ran.stdout).not.toContain(SECRET);
  });
});
