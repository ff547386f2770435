// The red-team findings about files (issue 13: 15), through the proxy binary: what AgentK
// writes only its user may read, and the server's stderr log is never a symlink's target.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { binarySession, SCRIPT_SERVER } from '../helpers/binary.js';

const mode = (path: string) => statSync(path).mode & 0o777;
const tool = { name: 'lookup', description: 'Look a word up.', inputSchema: { type: 'object' } };

describe('files AgentK writes', () => {
  it('creates traces and pins 0600, in directories 0700', async () => {
    const s = binarySession({ 'tools/list': { tools: [tool] } });
    await s.initialize();
    await s.request('tools/list');
    await s.close();
    expect(mode(s.trace)).toBe(0o600);
    const pins = join(s.dir, 'pins');
    expect(mode(pins)).toBe(0o700);
    const files = readdirSync(pins);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(mode(join(pins, file))).toBe(0o600);
  });

  it('refuses a --stderr-file that is a symbolic link, in one line, before starting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-symlink-'));
    const target = join(dir, 'elsewhere.txt');
    writeFileSync(target, 'untouched\n');
    const link = join(dir, 'stderr.log');
    symlinkSync(target, link);
    const run = spawnSync(
      process.execPath,
      [
        join(PACKAGE_ROOT, 'bin', 'agentk.js'),
        'mcp-proxy-stdio',
        '--server-id',
        'srv',
        '--trace-out',
        join(dir, 'trace.jsonl'),
        '--stderr-file',
        link,
        '--',
        process.execPath,
        SCRIPT_SERVER,
        join(dir, 'missing-script.json'),
      ],
      { input: '', encoding: 'utf8' },
    );
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/--stderr-file .*stderr\.log: it is a symbolic link, refused/);
  });
});
