// `agentk wrap` / `agentk unwrap` on sample configurations of each client (Claude Desktop,
// Claude Code, Cursor, VS Code), as real files: the wrapped structure, an exact round
// trip, idempotence, the dry run, the backup, env names, remote entries, and refusals
// that leave the file as it was.

import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kernelEnvReason } from '../../src/config/agentk-entry.js';
import { replaceWithBackup } from '../../src/config/user-file.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');
/** A client's variable reference, `${name}`, kept verbatim by wrap. */
const ref = (name: string) => `\${${name}}`;
const TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

type Entry = { command?: string; args?: string[]; env?: Record<string, string> } & Record<
  string,
  unknown
>;

const SAMPLES: Record<string, { file: string; key: 'mcpServers' | 'servers'; doc: unknown }> = {
  'Claude Desktop': {
    file: 'claude_desktop_config.json',
    key: 'mcpServers',
    doc: {
      mcpServers: {
        filesystem: {
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-filesystem', '/Users/me/work'],
        },
        github: {
          command: 'docker',
          args: ['run', '-i', '--rm', '-e', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'ghcr.io/github/x'],
          env: { GITHUB_PERSONAL_ACCESS_TOKEN: TOKEN, GITHUB_HOST: 'github.com' },
        },
      },
      globalShortcut: 'Ctrl+Space',
    },
  },
  'Claude Code': {
    file: '.mcp.json',
    key: 'mcpServers',
    doc: {
      mcpServers: {
        memory: {
          type: 'stdio',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-memory'],
          env: { MEMORY_FILE_PATH: `${ref('HOME')}/memory.json` },
        },
        sentry: { type: 'http', url: 'https://mcp.sentry.dev/mcp' },
        linear: { type: 'sse', url: 'https://mcp.linear.app/sse', headers: { X: 'y' } },
      },
    },
  },
  Cursor: {
    file: 'mcp.json',
    key: 'mcpServers',
    doc: {
      mcpServers: {
        'web search': { command: 'node', args: ['/opt/search/index.js'], env: { API_KEY: 'k' } },
        local: { command: '/usr/local/bin/my-server' },
      },
    },
  },
  'VS Code': {
    file: 'mcp.json',
    key: 'servers',
    doc: {
      inputs: [{ type: 'promptString', id: 'token', description: 'Token', password: true }],
      servers: {
        git: {
          type: 'stdio',
          command: 'uvx',
          args: ['mcp-server-git', '--repository', ref('workspaceFolder')],
          env: { GIT_TOKEN: ref('input:token'), OTHER: ref('env:OTHER') },
        },
        api: { type: 'http', url: 'https://api.example/mcp' },
      },
    },
  },
};

function sample(text: string, name = 'config.json'): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'agentk-wrap-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return { dir, file };
}

const pretty = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const backups = (dir: string) => readdirSync(dir).filter((n) => n.includes('.agentk-backup-'));

describe('agentk wrap and unwrap on each client format', () => {
  for (const [client, { file: name, key, doc }] of Object.entries(SAMPLES)) {
    it(`${client}: wraps every local entry, keeps the rest, and unwrap restores the file byte for byte`, async () => {
      const original = pretty(doc);
      const { dir, file } = sample(original, name);
      const wrapped = await runCli(['wrap', file, '--json']);
      expect(wrapped.code, wrapped.stderr).toBe(0);
      const report = JSON.parse(wrapped.stdout);
      expect(report).toMatchObject({ ok: true, format: key, changed: true, dry_run: false });

      const before = (doc as Record<string, Record<string, Entry>>)[key] as Record<string, Entry>;
      const after = read(file)[key] as Record<string, Entry>;
      for (const [entryName, entry] of Object.entries(before)) {
        const now = after[entryName] as Entry;
        if (entry.url !== undefined) {
          expect(now).toEqual(entry); // remote: untouched
          expect(report.entries).toContainEqual(
            expect.objectContaining({ name: entryName, action: 'skipped' }),
          );
          continue;
        }
        const envNames = Object.keys(entry.env ?? {});
        const id = entryName.replace(/ /g, '-');
        expect(now.command).toBe(process.execPath);
        expect(now.args).toEqual([
          BIN,
          'mcp-proxy-stdio',
          '--server-id',
          id,
          ...envNames.flatMap((n) => ['--allow-env', n]),
          '--',
          entry.command,
          ...(entry.args ?? []),
        ]);
        const { command: _c, args: _a, ...rest } = now;
        const { command: _oc, args: _oa, ...originalRest } = entry;
        expect(rest).toEqual(originalRest); // env, type and the rest, values verbatim
        const keys = Object.keys(entry).flatMap((k) =>
          k === 'command' && !('args' in entry) ? ['command', 'args'] : [k],
        );
        expect(Object.keys(now)).toEqual(keys); // every field in its place
      }
      // Everything outside the servers is as it was.
      const { [key]: _s, ...outside } = read(file);
      const { [key]: _o, ...outsideBefore } = doc as Record<string, unknown>;
      expect(outside).toEqual(outsideBefore);
      // The backup is the original, byte for byte.
      const [backup] = backups(dir);
      expect(report.backup).toBe(join(realpathSync(dir), backup as string));
      expect(readFileSync(report.backup, 'utf8')).toBe(original);

      const unwrapped = await runCli(['unwrap', file]);
      expect(unwrapped.code, unwrapped.stderr).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(original);
      expect(backups(dir)).toHaveLength(2);
    });
  }

  it('keeps key order within an entry, and gives args its place after command when it had none', async () => {
    const { file } = sample(pretty({ mcpServers: { x: { env: { A: '1' }, command: 'srv' } } }));
    expect((await runCli(['wrap', file])).code).toBe(0);
    const entry = read(file).mcpServers.x;
    expect(Object.keys(entry)).toEqual(['env', 'command', 'args']);
    expect(entry.args.slice(-3)).toEqual(['A', '--', 'srv']);
    expect((await runCli(['unwrap', file])).code).toBe(0);
    expect(read(file).mcpServers.x).toEqual({ env: { A: '1' }, command: 'srv' });
  });

  it('round-trips a file indented with four spaces and CRLF line endings exactly', async () => {
    const original = JSON.stringify(SAMPLES.Cursor?.doc, null, 4).replaceAll('\n', '\r\n');
    const { file } = sample(original);
    expect((await runCli(['wrap', file])).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('\r\n            "command": "');
    expect((await runCli(['unwrap', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
  });
});

describe('editing in place', () => {
  it('keeps comments, trailing commas and compact arrays, changing only command and args', async () => {
    const original = [
      '{',
      '  // my servers',
      '  "servers": {',
      '    "git": {',
      '      "type": "stdio", /* local */',
      '      "command": "uvx",',
      '      "args": ["mcp-server-git", "--repository", "."],',
      '    },',
      '    "inline": { "command": "srv" },',
      '  },',
      '  "inputs": [1,2,3],',
      '}',
      '',
    ].join('\n');
    const { file } = sample(original);
    const ran = await runCli(['wrap', file, '--launcher', 'agentk']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).not.toContain('written again');
    expect(readFileSync(file, 'utf8')).toBe(
      original
        .replace('"uvx"', '"agentk"')
        .replace(
          '["mcp-server-git"',
          '["mcp-proxy-stdio", "--server-id", "git", "--", "uvx", "mcp-server-git"',
        )
        .replace(
          '{ "command": "srv" }',
          '{ "command": "agentk", "args": ["mcp-proxy-stdio", "--server-id", "inline", "--", "srv"] }',
        ),
    );
    expect((await runCli(['unwrap', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
  });

  it('hides env values and comments in the dry run of a file with comments', async () => {
    const original = [
      '{ "servers": {',
      '  "s": {',
      '    "command": "srv",',
      '    "env": { "KEY": "value-one", // was: value-zero',
      '             "OTHER": "value-two" },',
      '    "args": ["a"]',
      '  }',
      '} }',
    ].join('\n');
    const { file } = sample(original);
    const dry = await runCli(['wrap', file, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('     "env": { "KEY": "[redacted]", // [redacted]\n');
    expect(dry.stdout).toContain('              "OTHER": "[redacted]" },\n');
    expect(dry.stdout).not.toMatch(/value-/);
  });

  it('refuses a change that would lose a comment, and writes nothing', async () => {
    const original =
      '{\n  "servers": {\n    "git": {\n      "command": "uvx",\n      "args": [\n        // the repository\n        "."\n      ]\n    }\n  }\n}\n';
    const { dir, file } = sample(original);
    const ran = await runCli(['wrap', file]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toBe(
      `agentk wrap: ${file}: cannot change it without losing a comment (inside a changed "args"?); edit it by hand\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(readdirSync(dir)).toEqual(['config.json']);
  });

  it('writes a plain JSON file again whole when editing in place would not give the document, and says so', async () => {
    // Two "args": JSON.parse reads the last; removing it in place would bring back the first.
    const original =
      '{"mcpServers": {"x": {"command": "agentk", "args": ["old"], "args": ["mcp-proxy-stdio", "--server-id", "x", "--", "srv"]}}}';
    const { file } = sample(original);
    const ran = await runCli(['unwrap', file]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('the whole file is written again');
    // One line, so no indentation to follow: two spaces.
    expect(readFileSync(file, 'utf8')).toBe(
      JSON.stringify({ mcpServers: { x: { command: 'srv' } } }, null, 2),
    );
  });

  it('round-trips the shipped example exactly', async () => {
    const original = readFileSync(
      join(PACKAGE_ROOT, 'examples', 'claude_desktop_config.json'),
      'utf8',
    );
    const { file } = sample(original);
    expect((await runCli(['wrap', file])).code).toBe(0);
    expect(read(file).mcpServers.github.args).toContain('GITHUB_PERSONAL_ACCESS_TOKEN');
    expect((await runCli(['unwrap', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
  });
});

describe('agentk wrap', () => {
  it('is idempotent: a second wrap changes nothing, writes no backup, and says so', async () => {
    const { dir, file } = sample(pretty(SAMPLES['Claude Desktop']?.doc));
    await runCli(['wrap', file]);
    const once = readFileSync(file, 'utf8');
    const again = await runCli(['wrap', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/left as is\s+filesystem\s+already behind AgentK/);
    expect(again.stdout).toContain('nothing to wrap; not written');
    expect(readFileSync(file, 'utf8')).toBe(once);
    expect(backups(dir)).toHaveLength(1);
  });

  it('--dry-run prints the diff, hides env values and credentials, and writes nothing', async () => {
    const inArgs = 'ghp_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210';
    const original = pretty({
      mcpServers: {
        // env between command and args: both changes show it as context
        gh: { command: 'gh-mcp', env: { GITHUB_TOKEN: TOKEN }, args: ['--token', inArgs] },
      },
    });
    const { dir, file } = sample(original);
    const dry = await runCli(['wrap', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`--- ${file}\n+++ ${file} (wrapped)\n@@ -1,`);
    expect(dry.stdout).toContain('-      "command": "gh-mcp",\n+      "command": ');
    expect(dry.stdout).toContain('+        "--allow-env",\n+        "GITHUB_TOKEN",');
    // The unchanged lines around the change show too: the env value and the token in args.
    expect(dry.stdout).toContain('         "--token",\n         "[redacted-secret]"\n');
    expect(dry.stdout).toContain('"GITHUB_TOKEN": "[redacted]"');
    expect(dry.stdout).toContain('dry run:');
    expect(dry.stdout).not.toContain(TOKEN);
    expect(dry.stdout).not.toContain(inArgs);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(backups(dir)).toEqual([]);
    const asJson = JSON.parse((await runCli(['wrap', file, '--dry-run', '--json'])).stdout);
    expect(asJson).toMatchObject({ dry_run: true, changed: true, backup: null });
    expect(asJson.diff).toContain('+        "mcp-proxy-stdio",');
    expect(asJson.diff).not.toContain(TOKEN);
    expect(asJson.diff).not.toContain(inArgs);
  });

  it('wraps only the entries named by --server, and refuses a name that is not there', async () => {
    const { file } = sample(pretty(SAMPLES['Claude Desktop']?.doc));
    expect((await runCli(['wrap', file, '--server', 'github', '--server', 'github'])).code).toBe(0);
    const servers = read(file).mcpServers;
    expect(servers.filesystem.command).toBe('npx');
    expect(servers.github.args.slice(1, 4)).toEqual(['mcp-proxy-stdio', '--server-id', 'github']);
    const before = readFileSync(file, 'utf8');
    const missing = await runCli(['wrap', file, '--server', 'nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `agentk wrap: ${file}: no server named "nope" under "mcpServers"\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('makes server ids fit the proxy grammar and keeps them distinct', async () => {
    const { file } = sample(
      pretty({
        mcpServers: {
          'My Server': { command: 'a' },
          'my server': { command: 'b' },
          '@scope/pkg': { command: 'c' },
          taken: { command: 'agentk', args: ['mcp-proxy-stdio', '--server-id', 'x', '--', 'd'] },
          x: { command: 'e' },
        },
      }),
    );
    const report = JSON.parse((await runCli(['wrap', file, '--json'])).stdout);
    const ids = Object.fromEntries(
      report.entries.map((e: { name: string; server_id?: string }) => [e.name, e.server_id]),
    );
    expect(ids).toEqual({
      'My Server': 'My-Server',
      'my server': 'my-server-2',
      '@scope/pkg': 'scope-pkg',
      taken: undefined,
      x: 'x-2',
    });
  });

  it('with --launcher agentk writes the bare command; with --policy an absolute, checked path', async () => {
    const { dir, file } = sample(pretty({ mcpServers: { s: { command: 'srv', args: ['-v'] } } }));
    writeFileSync(join(dir, 'bad.toml'), 'rules = 3\n');
    const bad = await runCli(['wrap', file, '--policy', join(dir, 'bad.toml')]);
    expect(bad.code).toBe(2);
    expect(read(file).mcpServers.s.command).toBe('srv');
    const policy = join(PACKAGE_ROOT, 'examples', 'policies', 'coding-agent.toml');
    const ok = await runCli(['wrap', file, '--launcher', 'agentk', '--policy', policy]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(read(file).mcpServers.s).toEqual({
      command: 'agentk',
      args: ['mcp-proxy-stdio', '--server-id', 's', '--policy', policy, '--', 'srv', '-v'],
    });
    expect((await runCli(['wrap', file, '--launcher', 'npx'])).code).toBe(2);
  });

  it('leaves an entry that runs AgentK itself (agentk mcp-server) alone', async () => {
    const doc = {
      mcpServers: {
        kernel: { command: 'agentk', args: ['mcp-server'] },
        viaNode: { command: 'node', args: [BIN, 'mcp-server'] },
      },
    };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['wrap', file]);
    expect(ran.stdout).toMatch(/left as is\s+kernel\s+runs AgentK itself/);
    expect(ran.stdout).toMatch(/left as is\s+viaNode\s+runs AgentK itself/);
    expect(read(file)).toEqual(doc);
  });

  it('skips an entry with an envFile, whose names it cannot pass, and says why', async () => {
    const doc = {
      servers: { s: { type: 'stdio', command: 'srv', envFile: `${ref('workspaceFolder')}/.env` } },
    };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['wrap', file]);
    expect(ran.stdout).toMatch(/left as is\s+s\s+has an envFile/);
    expect(read(file)).toEqual(doc);
  });

  it('keeps the file mode, and writes through a symbolic link to its target', async () => {
    const { dir, file } = sample(pretty(SAMPLES.Cursor?.doc));
    chmodSync(file, 0o600);
    const link = join(dir, 'link.json');
    symlinkSync(file, link);
    expect((await runCli(['wrap', link])).code).toBe(0);
    expect(statSync(link, { throwIfNoEntry: true }).isFile()).toBe(true);
    expect(readFileSync(link, 'utf8')).toContain('mcp-proxy-stdio');
    expect(readdirSync(dir).filter((n) => n.startsWith('link.json'))).toEqual(['link.json']);
    if (process.platform !== 'win32') {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const [backup] = backups(dir);
      expect(statSync(join(dir, backup as string)).mode & 0o777).toBe(0o600);
    }
  });

  it.skipIf(process.platform === 'win32' || process.platform === 'darwin')(
    "defaults to Claude Desktop's configuration, and names the places when there is none",
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'agentk-home-'));
      const none = await runCli(['wrap'], { HOME: home });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain(join(home, '.config', 'Claude', 'claude_desktop_config.json'));
      expect(none.stderr).toContain('.vscode/mcp.json');
      mkdirSync(join(home, '.config', 'Claude'), { recursive: true });
      const file = join(home, '.config', 'Claude', 'claude_desktop_config.json');
      writeFileSync(file, pretty(SAMPLES['Claude Desktop']?.doc));
      expect((await runCli(['wrap'], { HOME: home })).code).toBe(0);
      expect(read(file).mcpServers.filesystem.args).toContain('mcp-proxy-stdio');
    },
  );
});

describe('agentk unwrap', () => {
  it('restores a hand-written proxied entry (the README form, or --command/--arg) and leaves others', async () => {
    const doc = {
      mcpServers: {
        fs: {
          command: 'agentk',
          args: ['mcp-proxy-stdio', '--server-id', 'fs', '--quiet', '--', 'npx', '-y', 'srv', '/w'],
        },
        flags: {
          command: 'npx',
          args: [
            '-y',
            'agentk-kernel',
            'mcp-proxy-stdio',
            '--server-id',
            'f',
            '--command',
            'node',
            '--arg',
            '-e',
          ],
        },
        plain: { command: 'srv' },
      },
    };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['unwrap', file]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/left as is\s+plain\s+not behind AgentK/);
    expect(read(file).mcpServers).toEqual({
      fs: { command: 'npx', args: ['-y', 'srv', '/w'] },
      flags: { command: 'node', args: ['-e'] },
      plain: { command: 'srv' },
    });
  });

  it('refuses an agentk entry whose proxy arguments the proxy itself would refuse, and unwraps the rest', async () => {
    const doc = {
      mcpServers: {
        bad: { command: 'agentk', args: ['mcp-proxy-stdio', '--', 'srv'] },
        good: { command: 'agentk', args: ['mcp-proxy-stdio', '--server-id', 'g', '--', 'srv'] },
      },
    };
    const { file } = sample(pretty(doc));
    const ran = await runCli(['unwrap', file]);
    expect(ran.code).toBe(1);
    expect(ran.stderr.split('\n')).toHaveLength(2); // one line
    expect(ran.stderr).toMatch(
      /mcpServers\.bad: runs agentk mcp-proxy-stdio with arguments the proxy refuses \(--server-id/,
    );
    expect(read(file).mcpServers).toEqual({ bad: doc.mcpServers.bad, good: { command: 'srv' } });
  });
});

describe('refusals name the file, exit 2, and leave it untouched', () => {
  const cases: [string, string, RegExp][] = [
    ['invalid JSON', '{ "mcpServers": { ', /: not valid JSON \(/],
    ['no servers key', pretty({ other: {} }), /no "mcpServers" or "servers" key/],
    ['both keys', pretty({ mcpServers: {}, servers: {} }), /has both "mcpServers" and "servers"/],
    ['servers not an object', pretty({ mcpServers: [] }), /"mcpServers" must be an object/],
    [
      'an entry without command',
      pretty({ mcpServers: { x: { args: [] } } }),
      /mcpServers\.x has no "command"/,
    ],
    [
      'args not strings',
      pretty({ mcpServers: { x: { command: 'a', args: [1] } } }),
      /mcpServers\.x\.args must be an array of strings/,
    ],
  ];
  for (const [what, text, message] of cases) {
    it(what, async () => {
      const { dir, file } = sample(text);
      for (const command of ['wrap', 'unwrap']) {
        const ran = await runCli([command, file]);
        expect(ran.code).toBe(2);
        expect(ran.stderr.split('\n')).toHaveLength(2); // one line
        expect(ran.stderr).toContain(file);
        expect(ran.stderr).toMatch(message);
        expect(ran.stderr).not.toContain('secret-value');
        expect(readFileSync(file, 'utf8')).toBe(text);
        expect(readdirSync(dir)).toEqual(['config.json']);
      }
    });
  }

  it('a missing file', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'agentk-wrap-')), 'nope.json');
    const ran = await runCli(['wrap', missing]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toBe(`agentk wrap: client configuration ${missing} does not exist\n`);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('replaceWithBackup', () => {
  it('writes nothing, not even a backup, when the file no longer reads as it did', () => {
    const { dir, file } = sample('{"mcpServers":{}}\n');
    expect(() => replaceWithBackup(file, '{"changed":1}\n', '{}\n')).toThrow(
      /changed while agentk was editing it/,
    );
    expect(readFileSync(file, 'utf8')).toBe('{"mcpServers":{}}\n');
    expect(readdirSync(dir)).toEqual(['config.json']);
  });

  it('never writes over an existing backup', () => {
    const { dir, file } = sample('one\n');
    const now = new Date('2026-12-07T04:47:49.123Z');
    const first = replaceWithBackup(file, 'one\n', 'two\n', now);
    const second = replaceWithBackup(file, 'two\n', 'three\n', now);
    expect(first).toBe(join(realpathSync(dir), 'config.json.agentk-backup-20261207T044749Z'));
    expect(second).toBe(`${first}-2`);
    expect([readFileSync(first, 'utf8'), readFileSync(second, 'utf8')]).toEqual(['one\n', 'two\n']);
    expect(readFileSync(file, 'utf8')).toBe('three\n');
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

const PROTO = '__proto__';

describe('wrap then unwrap, on generated configurations', () => {
  const word = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
  const name = fc
    .stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/)
    .filter((key) => kernelEnvReason(key) === null);
  const entry = fc.record(
    {
      command: word,
      args: fc.array(fc.string({ maxLength: 10 }), { minLength: 1, maxLength: 4 }),
      // Names that would configure AgentK itself are refused (wrap-trust.test.ts).
      env: fc.dictionary(name, fc.string({ maxLength: 8 }), { maxKeys: 3 }),
      cwd: word,
      // An own field of that name (JSON.parse makes one), which must stay a field.
      [PROTO]: fc.constant('a field'),
    },
    { requiredKeys: ['command'] },
  );
  const layout = fc.constantFrom<string | number | undefined>(undefined, 2, 4, '\t');

  it('gives back the same bytes, whatever the names, values, fields and layout', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.oneof(word, fc.constant(PROTO)), entry, { minKeys: 1, maxKeys: 4 }),
        layout,
        fc.boolean(),
        async (servers, indent, vscode) => {
          const doc = vscode ? { servers, inputs: [] } : { mcpServers: servers, other: 1 };
          const original = JSON.stringify(doc, null, indent);
          const { file } = sample(original);
          const wrapped = await runCli(['wrap', file]);
          expect(wrapped.code, wrapped.stderr).toBe(0);
          expect(wrapped.stdout).not.toContain('written again');
          const after = read(file)[vscode ? 'servers' : 'mcpServers'];
          expect(Object.keys(after)).toEqual(Object.keys(servers));
          for (const value of Object.values(after) as Entry[]) {
            expect(value.args?.slice(0, 2)).toEqual([BIN, 'mcp-proxy-stdio']);
          }
          const unwrapped = await runCli(['unwrap', file]);
          expect(unwrapped.code, unwrapped.stderr).toBe(0);
          expect(readFileSync(file, 'utf8')).toBe(original);
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});
