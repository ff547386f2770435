// `agentk verify <log>`: the hash chain and the seal, streamed.

import { isLoopbackHost } from '../../config/variables.js';
import { fingerprintOf } from '../../crypto/index.js';
import {
  type AnchorCheck,
  checkAnchors,
  checkAnchorsOverHttp,
  type HttpAnchor,
} from '../../evidence/anchors.js';
import { isDevelopmentKey } from '../../evidence/keys.js';
import { DEFAULT_POLICY_PATH } from '../../paths.js';
import { loadPolicyFile } from '../../policy/load.js';
import { verifyLogFile } from '../../recorder/verify.js';
import { type AllAnchors, policyAnchorTargets } from '../anchors.js';
import {
  type Command,
  flag,
  json,
  type ParsedArgs,
  stringOption,
  stringsOption,
  usageError,
} from '../command.js';
import { type CliIo, EXIT, type ExitCode } from '../io.js';

export const verifyCommand: Command = {
  name: 'verify',
  usage: `agentk verify <log> [--json] [--anchor FILE]... [--anchor-git REPO]...
                    [--anchor-url URL]... [--anchors [--policy FILE]]

Exit 0: every line intact and the log is sealed (and, with anchors, each anchor holds this
seal). Exit 1: tampered or malformed, with the line and the reason; or an anchor that holds
another seal for the run, or none. Exit 3: intact but unsealed (possibly truncated, e.g.
after a crash).

  --anchor FILE       an anchor file the seal was appended to ([anchors] files)
  --anchor-git REPO   an anchor repository the seal was committed to ([anchors] git)
  --anchor-url URL    an anchor service the seal was posted to ([anchors] http; no headers)
  --anchors           the anchors the policy names (--policy, default the shipped policy)`,
  options: {
    json: { type: 'boolean' },
    anchor: { type: 'string', multiple: true },
    'anchor-git': { type: 'string', multiple: true },
    'anchor-url': { type: 'string', multiple: true },
    anchors: { type: 'boolean' },
    policy: { type: 'string' },
  },
  positionals: [1, 1],
  async run(args, io) {
    const path = args.positionals[0] as string;
    const targets = anchorTargets(args, io.env);
    const result = verifyLogFile(path);
    const asJson = flag(args, 'json');
    if (result.ok && targets !== null) {
      const checks = [
        ...checkAnchors(result.seal, targets),
        ...(await checkAnchorsOverHttp(result.seal, targets.http)),
      ];
      return reportAnchors(path, checks, asJson, io);
    }
    if (result.ok) {
      const signer = fingerprintOf(result.seal.seal.public_key);
      const source = isDevelopmentKey(result.seal.seal.public_key)
        ? 'development'
        : result.seal.seal.key_source;
      if (asJson) {
        io.stdout(
          json({
            ok: true,
            status: 'sealed',
            log: path,
            events: result.events,
            head_hash: result.headHash,
            run_id: result.runId,
            seal_signer: signer,
            seal_key_source: source,
          }),
        );
      } else {
        io.stdout(
          `OK ${path}: ${result.events} events, sealed by ${signer} (${source} key), head ${result.headHash}\n`,
        );
      }
      return EXIT.ok;
    }
    const unsealed = result.code === 'unsealed';
    if (asJson) {
      io.stdout(
        json({
          ok: false,
          status: unsealed ? 'unsealed' : 'failed',
          log: path,
          code: result.code,
          line: result.line,
          detail: result.detail,
          events: result.events,
          covered_events: result.covered,
          head_hash: result.headHash,
        }),
      );
    } else if (unsealed) {
      const covered =
        result.covered > 0 ? ` (${result.covered} covered by a signed checkpoint)` : '';
      io.stdout(
        `UNSEALED ${path}: ${result.events} events intact${covered}, head ${result.headHash}; ${result.detail}\n`,
      );
    } else {
      io.stdout(`FAILED ${path}:${result.line}: ${result.detail} [${result.code}]\n`);
    }
    return unsealed ? EXIT.unsealed : EXIT.failed;
  },
};

/** The anchors to check: those named on the command line and, with --anchors, the policy's. */
function anchorTargets(
  args: ParsedArgs,
  env: Readonly<Record<string, string | undefined>>,
): AllAnchors | null {
  const files = [...stringsOption(args, 'anchor')];
  const git = [...stringsOption(args, 'anchor-git')];
  const http: HttpAnchor[] = stringsOption(args, 'anchor-url').map((url) => ({
    url: anchorUrl(url),
    headers: {},
  }));
  const policyPath = stringOption(args, 'policy');
  if (policyPath !== undefined && !flag(args, 'anchors')) {
    throw usageError('--policy names where --anchors are read from: give --anchors with it');
  }
  if (flag(args, 'anchors')) {
    const policy = loadPolicyFile(policyPath ?? DEFAULT_POLICY_PATH);
    const named = policyAnchorTargets(policy, env);
    if (named === null) {
      throw usageError(`${policyPath ?? DEFAULT_POLICY_PATH} names no [anchors] to check`);
    }
    files.push(...named.files);
    git.push(...named.git);
    http.push(...named.http);
  }
  return files.length + git.length + http.length === 0 ? null : { files, git, http };
}

/** A --anchor-url value: an http(s) URL (plain http only to this machine). */
function anchorUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--anchor-url ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw usageError('--anchor-url must be https, or http to this machine');
  }
  return url.href;
}

/** A sealed log's anchors: exit 0 only when every anchor holds this very seal. */
function reportAnchors(
  path: string,
  checks: readonly AnchorCheck[],
  asJson: boolean,
  io: CliIo,
): ExitCode {
  const ok = checks.every((check) => check.status === 'match');
  if (asJson) {
    io.stdout(json({ ok, status: ok ? 'anchored' : 'anchor-failed', log: path, anchors: checks }));
  } else {
    for (const check of checks) {
      const word = check.status === 'match' ? 'ANCHORED' : `ANCHOR ${check.status.toUpperCase()}`;
      io.stdout(`${word} ${path} in ${check.target}: ${check.detail}\n`);
    }
  }
  return ok ? EXIT.ok : EXIT.failed;
}
