// A real server under --sandbox: @modelcontextprotocol/server-filesystem on a temporary
// workspace keeps working (list, write, read, search), and sees nothing outside it.
// Skipped, with the reason, where the host cannot sandbox.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { FILESYSTEM } from '../helpers/real.js';
import { proxyClient, sandboxUnavailable, world } from '../helpers/sandbox.js';

const unavailable = sandboxUnavailable();

describe.skipIf(unavailable !== null)(
  `server-filesystem under --sandbox ${unavailable ?? ''}`,
  () => {
    it('lists, writes, reads and searches its workspace as it does unsandboxed', async () => {
      const w = world();
      writeFileSync(join(w.workspace, 'notes.txt'), 'first line\n');
      const session = await proxyClient(
        w,
        'fs',
        [process.execPath, FILESYSTEM, w.workspace],
        ['--sandbox'],
      );
      const listing = await session.call('list_directory', { path: w.workspace });
      expect(listing).toContain('[FILE] notes.txt');
      expect(listing).toContain('[DIR] keys');
      expect(await session.call('read_text_file', { path: join(w.workspace, 'notes.txt') })).toBe(
        'first line\n',
      );
      const written = join(w.workspace, 'out.txt');
      expect(
        await session.call('write_file', { path: written, content: 'from the sandbox\n' }),
      ).toMatch(/Successfully wrote/);
      expect(readFileSync(written, 'utf8')).toBe('from the sandbox\n');
      expect(
        await session.call('search_files', { path: w.workspace, pattern: '**/out.txt' }),
      ).toContain(written);
      const stderr = await session.close();
      expect(stderr).toContain('agentk fs: sandboxed: workspace rw; network none');
      expect(verifyLogFile(session.trace).ok).toBe(true);
    });
  },
);
