// The memory and git reference servers under --sandbox with the profiles docs/sandbox.md
// gives them: each keeps working on its workspace, and sees nothing of the home directory.
// Skipped, with the reason, where the host cannot sandbox.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { MEMORY } from '../helpers/real.js';
import { proxyClient, sandboxUnavailable, world } from '../helpers/sandbox.js';

const unavailable = sandboxUnavailable();
const GIT = join(PACKAGE_ROOT, 'node_modules', '@cyanheads', 'git-mcp-server', 'dist', 'index.js');

describe.skipIf(unavailable !== null)(`real servers under --sandbox ${unavailable ?? ''}`, () => {
  it('server-memory keeps its graph in the workspace, through MEMORY_FILE_PATH', async () => {
    const w = world();
    const memoryFile = join(w.workspace, 'memory.jsonl');
    const session = await proxyClient(
      w,
      'memory',
      [process.execPath, MEMORY],
      ['--sandbox', '--allow-env', 'MEMORY_FILE_PATH'],
      [],
      { MEMORY_FILE_PATH: memoryFile },
    );
    await session.call('create_entities', {
      entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote the first program'] }],
    });
    expect(await session.call('search_nodes', { query: 'Ada' })).toContain('first program');
    expect(await session.call('read_graph')).toContain('Ada');
    const stderr = await session.close();
    expect(stderr).toContain('agentk memory: sandboxed: workspace rw; network none');
    expect(readFileSync(memoryFile, 'utf8')).toContain('"name":"Ada"');
    expect(verifyLogFile(session.trace).ok).toBe(true);
  });

  it('git-mcp-server reads and commits in a repository in the workspace', async () => {
    // Its WebAssembly module reserves about 10 GiB of address space (V8's guard regions).
    const w = world('[sandbox.git.limits]\nmemory_mib = 16384\n');
    // A repository below the workspace: the workspace itself holds AgentK's .agentk/, which
    // no call may reach (kernel.protected-path).
    const repo = join(w.workspace, 'repo');
    mkdirSync(repo);
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: repo, stdio: ['ignore', 'pipe', 'ignore'] });
    git('init', '-q', '-b', 'main');
    git('config', 'user.name', 'Dana Developer');
    git('config', 'user.email', 'dana@example.com');
    git('config', 'commit.gpgsign', 'false');
    writeFileSync(join(repo, 'README.md'), '# sandboxed\n');
    const session = await proxyClient(w, 'git', [process.execPath, GIT]);
    const path = repo;
    expect(await session.call('git_status', { path })).toContain('README.md');
    expect(await session.call('git_add', { path, paths: ['README.md'] })).toContain(
      '"success": true',
    );
    expect(await session.call('git_commit', { path, message: 'from the sandbox' })).toContain(
      '"success": true',
    );
    expect(await session.call('git_log', { path, maxCount: 1 })).toContain('from the sandbox');
    const stderr = await session.close();
    expect(stderr).toContain('agentk git: sandboxed: workspace rw; network none');
    expect(git('log', '--format=%s %an').toString()).toContain('from the sandbox Dana Developer');
    expect(existsSync(join(w.home, '.gitconfig'))).toBe(false);
    expect(verifyLogFile(session.trace).ok).toBe(true);
  });
});
