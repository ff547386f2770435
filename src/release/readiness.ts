// The public-readiness gate (`agentk readiness`): is this checkout fit to publish and to
// sign real evidence? Each check is PASS, WARN or FAIL with one line of detail; the
// patterns and rules are documented in docs/public-readiness.md.
// Input distrusted: the checkout's files (scanned, never echoed: a finding names a file
// and a count, not the secret).

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AgentkError } from '../errors.js';
import { loadCorpus } from '../eval/scenario.js';
import { keyFileProblems } from '../evidence/keyfile.js';
import { loadSigner, SIGNING_KEY_FILE_ENV } from '../evidence/keys.js';
import { loadTrustManifest } from '../evidence/trust.js';
import { isInstalledCopy } from '../paths.js';
import { loadPolicyFile } from '../policy/load.js';
import { findCredentialFormats } from '../provenance/detect.js';
import { loadBehavior } from '../review/behavior.js';
import { loadSecretRefs } from '../secrets/references.js';

export type Status = 'PASS' | 'WARN' | 'FAIL';

export interface Check {
  readonly status: Status;
  readonly check: string;
  readonly detail: string;
}

export const REQUIRED_FILES = [
  'README.md',
  'LICENSE',
  'SECURITY.md',
  'CONTRIBUTING.md',
  '.gitignore',
  'package.json',
  'package-lock.json',
  'examples/agentk.policy.toml',
  'docs/threat-model.md',
  'docs/key-lifecycle.md',
  'docs/mcp-proxy.md',
  'docs/public-readiness.md',
  'docs/mcp-shim-eval.md',
  'docs/release-checklist.md',
  'docs/v0.1-target.md',
  'docs/v0.1-limit-disposition.md',
  'docs/v0.1-release-dry-run.md',
  'docs/flight-log.md',
  'docs/policy.md',
  'docs/eval.md',
  'docs/performance.md',
];

/**
 * Where planted, fake credentials are expected (tests, the attack corpus, the demo's
 * poisoned page). A credential format anywhere else in a tracked file fails readiness.
 */
export const PLANTED_CREDENTIAL_PATHS = ['test/', 'examples/attacks/', 'src/demo/'];

/** Tracked paths that must never be committed. */
const FORBIDDEN_TRACKED: readonly [RegExp, string][] = [
  [/^\.agentk\//, 'run output under .agentk/'],
  [/(^|\/)node_modules\//, 'node_modules'],
  [/\.pem$|\.key$|(^|\/)[^/]*agentk-signing-key[^/]*$/i, 'a key file'],
  [/(^|\/)\.env(\.|$)/, 'an environment file'],
];

const CLAIM = /production[- ]ready|production[- ]grade|battle[- ]tested|enterprise[- ]grade/i;
/** A line that mentions readiness without claiming it: negated, or asked as a question. */
const NEGATION =
  /\b(not|no|never|nor|without|isn't|aren't|until|whether)\b|ready\?|ready: (yes|no)/i;
/** The content of a key file from `agentk keygen`: a bare 32-byte seed in hex. */
const SEED_FILE = /^\s*[0-9a-f]{64}\s*$/i;

/** Tracked files larger than this cannot be scanned and fail the gate. */
const MAX_SCANNED_BYTES = 64 * 1024 * 1024;
/** An npm registry credential in a committed .npmrc. */
const NPMRC_TOKEN = /_auth(?:Token)?\s*=/;

const pass = (check: string, detail: string): Check => ({ status: 'PASS', check, detail });
const warn = (check: string, detail: string): Check => ({ status: 'WARN', check, detail });
const fail = (check: string, detail: string): Check => ({ status: 'FAIL', check, detail });

function errorText(error: unknown): string {
  if (error instanceof AgentkError) {
    return error.problems.length > 0 ? `${error.message} (${error.problems[0]})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

function requiredFiles(root: string): Check {
  const missing = REQUIRED_FILES.filter((file) => !existsSync(join(root, file)));
  return missing.length === 0
    ? pass('required-files', `${REQUIRED_FILES.length} present`)
    : fail('required-files', `missing: ${missing.join(', ')}`);
}

function gitignore(root: string): Check {
  let lines: string[];
  try {
    lines = readFileSync(join(root, '.gitignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
  } catch {
    return fail('gitignore', '.gitignore cannot be read');
  }
  const ignores = (entry: string) => lines.includes(entry) || lines.includes(`/${entry}`);
  if (!ignores('.agentk/') && !ignores('.agentk')) {
    return fail('gitignore', '.gitignore does not ignore .agentk/ (run output and keys)');
  }
  const missing = ['node_modules/', '*agentk-signing-key*'].filter((entry) => !ignores(entry));
  return missing.length === 0
    ? pass('gitignore', 'ignores .agentk/, node_modules/ and signing key files')
    : warn('gitignore', `ignores .agentk/ but not ${missing.join(', ')}`);
}

function shippedDocuments(root: string): Check[] {
  const checks: Check[] = [];
  const policies = [
    'examples/agentk.policy.toml',
    ...safeList(join(root, 'examples', 'policies'))
      .filter((file) => file.endsWith('.toml'))
      .map((file) => `examples/policies/${file}`),
  ];
  for (const file of policies) {
    try {
      loadPolicyFile(join(root, file));
      checks.push(pass('policy', `${file} validates`));
    } catch (error) {
      checks.push(fail('policy', `${file}: ${errorText(error)}`));
    }
  }
  const manifests: [string, (path: string) => unknown][] = [
    ['examples/trusted-signers.toml', loadTrustManifest],
    ['examples/secret-refs.toml', loadSecretRefs],
    ['examples/replay-behavior-overrides.json', loadBehavior],
    ['examples/attacks', loadCorpus],
  ];
  for (const [file, load] of manifests) {
    if (!existsSync(join(root, file))) {
      checks.push(fail('manifest', `${file} is missing`));
      continue;
    }
    try {
      load(join(root, file));
      checks.push(pass('manifest', `${file} validates`));
    } catch (error) {
      checks.push(fail('manifest', `${file}: ${errorText(error)}`));
    }
  }
  return checks;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function signingKey(env: Readonly<Record<string, string | undefined>>): Check[] {
  const required = env.AGENTK_REQUIRE_SIGNING_KEY === '1';
  let signer: ReturnType<typeof loadSigner>;
  try {
    signer = loadSigner(env);
  } catch (error) {
    return [fail('signing-key', errorText(error))];
  }
  if (signer.source === 'development') {
    const detail =
      'evidence is signed with the public development key; set AGENTK_SIGNING_KEY_FILE to a key from `agentk keygen`';
    return [
      required
        ? fail('signing-key', `${detail} (AGENTK_REQUIRE_SIGNING_KEY=1)`)
        : warn('signing-key', detail),
    ];
  }
  const checks = [pass('signing-key', `${signer.source} key ${signer.fingerprint}`)];
  const file = env[SIGNING_KEY_FILE_ENV];
  if (signer.source === 'file' && file) {
    const problems = keyFileProblems(file);
    checks.push(
      problems.length === 0
        ? pass(
            'key-file-permissions',
            'readable only by its owner, in a directory only its owner can write',
          )
        : fail('key-file-permissions', problems.join('; ')),
    );
  }
  return checks;
}

function trackedFiles(root: string): string[] | null {
  try {
    const out = execFileSync('git', ['ls-files', '-z'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
    return out.split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/**
 * A tracked file's content: from the working tree, or from the index when the working
 * copy is gone (a deleted file is still published by the next commit's parent). null when
 * it is too large or cannot be read: the caller fails closed.
 */
function trackedText(root: string, file: string): string | null {
  const path = join(root, file);
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) return ''; // a submodule
    if (stat.size > MAX_SCANNED_BYTES) return null;
    return readFileSync(path, 'utf8');
  } catch {
    try {
      return execFileSync('git', ['show', `:${file}`], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: MAX_SCANNED_BYTES,
      });
    } catch {
      return null;
    }
  }
}

function trackedScan(root: string): Check[] {
  const files = trackedFiles(root);
  if (files === null) {
    return [
      warn('tracked-files', 'not a git checkout (or git is missing): tracked files not scanned'),
    ];
  }
  const checks: Check[] = [];
  const forbidden = files.flatMap((file) =>
    FORBIDDEN_TRACKED.filter(([pattern]) => pattern.test(file)).map(
      ([, what]) => `${file} (${what})`,
    ),
  );
  checks.push(
    forbidden.length === 0
      ? pass('tracked-files', `${files.length} tracked files; no run output, keys or env files`)
      : fail('tracked-files', `must not be tracked: ${forbidden.slice(0, 10).join(', ')}`),
  );
  const found: string[] = [];
  let planted = 0;
  for (const file of files) {
    const text = trackedText(root, file);
    if (text === null) {
      found.push(`${file} (too large or unreadable to scan)`);
      continue;
    }
    if (/(^|\/)\.npmrc$/.test(file) && NPMRC_TOKEN.test(text)) {
      found.push(`${file} (an npm auth token)`);
      continue;
    }
    if (SEED_FILE.test(text)) {
      found.push(`${file} (a signing-key seed)`);
      continue;
    }
    const hits = findCredentialFormats(text).length;
    if (hits === 0) continue;
    if (PLANTED_CREDENTIAL_PATHS.some((prefix) => file.startsWith(prefix))) planted += hits;
    else found.push(`${file} (${hits})`);
  }
  checks.push(
    found.length === 0
      ? pass(
          'tracked-secrets',
          `no credential formats outside the planted-test paths (${planted} planted fakes in ${PLANTED_CREDENTIAL_PATHS.join(', ')})`,
        )
      : fail('tracked-secrets', `credential formats in ${found.slice(0, 10).join(', ')}`),
  );
  return checks;
}

function claims(root: string): Check {
  const documents = [
    'README.md',
    'SECURITY.md',
    'CONTRIBUTING.md',
    ...safeList(join(root, 'docs'))
      .filter((file) => file.endsWith('.md'))
      .map((file) => `docs/${file}`),
  ];
  const offending: string[] = [];
  for (const document of documents) {
    let text: string;
    try {
      text = readFileSync(join(root, document), 'utf8');
    } catch {
      continue;
    }
    text.split('\n').forEach((line, index) => {
      if (CLAIM.test(line) && !NEGATION.test(line)) offending.push(`${document}:${index + 1}`);
    });
  }
  return offending.length === 0
    ? pass('no-readiness-claims', `${documents.length} documents; none claims production readiness`)
    : fail(
        'no-readiness-claims',
        `a document claims production readiness: ${offending.join(', ')}`,
      );
}

/** Every readiness check of the checkout at `root`, in a stable order. */
export function readiness(
  root: string,
  env: Readonly<Record<string, string | undefined>>,
  /** The root was named (--root): it is checked as a checkout, wherever it is. */
  named = false,
): Check[] {
  if (!named && isInstalledCopy(root)) {
    return [
      warn(
        'installed-package',
        `${root} is an installed package, not a source checkout: the repository checks (required files, .gitignore, tracked files) are skipped; run \`agentk readiness\` in a clone of the repository before publishing`,
      ),
      ...shippedDocuments(root),
      ...signingKey(env),
      claims(root),
    ];
  }
  return [
    requiredFiles(root),
    gitignore(root),
    ...shippedDocuments(root),
    ...signingKey(env),
    ...trackedScan(root),
    claims(root),
  ];
}

export function summarize(checks: readonly Check[]): Record<Status, number> {
  const counts: Record<Status, number> = { PASS: 0, WARN: 0, FAIL: 0 };
  for (const check of checks) counts[check.status] += 1;
  return counts;
}
