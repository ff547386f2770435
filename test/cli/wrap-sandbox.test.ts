// `agentk wrap --sandbox`: each wrapped entry runs the proxy with --sandbox, which the
// proxy accepts (so a second wrap leaves it as it is) and unwrap takes out again.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/sandbox.js';

const agentk = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });

describe('agentk wrap --sandbox', () => {
  it('puts --sandbox before the server command line, and unwrap restores the entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-wrap-sandbox-'));
    const file = join(dir, 'mcp.json');
    const original = `${JSON.stringify({ mcpServers: { fs: { command: 'node', args: ['/opt/fs/index.js', '/srv'] } } }, null, 2)}\n`;
    writeFileSync(file, original);
    expect(agentk(['wrap', file, '--sandbox']).status).toBe(0);
    const args = JSON.parse(readFileSync(file, 'utf8')).mcpServers.fs.args as string[];
    expect(args.slice(args.indexOf('mcp-proxy-stdio'))).toEqual([
      'mcp-proxy-stdio',
      '--server-id',
      'fs',
      '--sandbox',
      '--',
      'node',
      '/opt/fs/index.js',
      '/srv',
    ]);
    expect(agentk(['wrap', file, '--sandbox', '--json']).stdout).toContain('already-wrapped');
    expect(agentk(['unwrap', file]).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
  });
});
