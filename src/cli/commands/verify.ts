// `agentk verify <log>`: the hash chain and the seal, streamed.

import { fingerprintOf } from '../../crypto/index.js';
import { isDevelopmentKey } from '../../evidence/keys.js';
import { verifyLogFile } from '../../recorder/verify.js';
import { type Command, flag, json } from '../command.js';
import { EXIT } from '../io.js';

export const verifyCommand: Command = {
  name: 'verify',
  usage: `agentk verify <log> [--json]

Exit 0: every line intact and the log is sealed. Exit 1: tampered or malformed, with the
line and the reason. Exit 3: intact but unsealed (possibly truncated, e.g. after a crash).`,
  options: { json: { type: 'boolean' } },
  positionals: [1, 1],
  run(args, io) {
    const path = args.positionals[0] as string;
    const result = verifyLogFile(path);
    const asJson = flag(args, 'json');
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
