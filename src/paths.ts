// Files that ship with the package (policies, examples), found relative to this module so
// that `npx agentk` works from any directory. Same answer from src/ (tests) and dist/.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_POLICY_PATH = join(PACKAGE_ROOT, 'examples', 'agentk.policy.toml');

/** Where runs are recorded, relative to the working directory. */
export const RUNS_DIR = join('.agentk', 'runs');
