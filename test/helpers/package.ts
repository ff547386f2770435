// This checkout packed as npm would publish it (`npm pack`, scripts off: dist/ is already
// built, and a running suite must not see it rebuilt) and installed into `dir` outside the
// repository: into a project (`npm install TARBALL`) or globally under a prefix (`-g`).

import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

/** Pack and install; returns what npm printed while installing. */
export function packAndInstall(
  dir: string,
  how: { readonly project: string } | { readonly globalPrefix: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as { filename: string }[];
  const tarball = join(dir, (packed[0] as { filename: string }).filename);
  const where = 'project' in how ? [] : ['-g', '--prefix', how.globalPrefix];
  const flags = ['--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'];
  const install = spawnSync('npm', ['install', ...where, ...flags, tarball], {
    cwd: 'project' in how ? how.project : dir,
    encoding: 'utf8',
    env,
  });
  const log = `${install.stdout}${install.stderr}`;
  expect(install.status, log).toBe(0);
  return log;
}
