// Files that ship with the package (policies, examples), found relative to this module so
// that `npx agentk` works from any directory. Same answer from src/ (tests) and dist/.

import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The npm package AgentK installs from (`npx agentk` outside a checkout is someone else's). */
export const PACKAGE_NAME = 'agentk-kernel';

/**
 * An installed copy (npm install, npm install -g, npx: always under a node_modules folder),
 * as opposed to a checkout of the repository.
 */
export function isInstalledCopy(root: string): boolean {
  // A checkout reached through a path that says node_modules is still a checkout.
  return resolve(root).split(sep).includes('node_modules') && !existsSync(join(root, '.git'));
}

/**
 * How a hint tells the user to run AgentK again: in a checkout `npx agentk` runs this
 * package's bin; an installed copy (`npm install -g`, as the README says) is `agentk`.
 */
export const SELF_COMMAND = isInstalledCopy(PACKAGE_ROOT) ? 'agentk' : 'npx agentk';

export const DEFAULT_POLICY_PATH = join(PACKAGE_ROOT, 'examples', 'agentk.policy.toml');

/** Where runs are recorded, relative to the working directory. */
export const RUNS_DIR = join('.agentk', 'runs');

/**
 * Whether a worker thread's compiled module is there to start: from dist/ it is; from
 * src/ (the tests run TypeScript) there is no compiled file, and callers do the work on
 * their own thread instead.
 */
export function compiledWorkerExists(url: URL): boolean {
  return url.protocol === 'file:' && existsSync(fileURLToPath(url));
}
