// `agentk keygen --out FILE`: a new Ed25519 signing key file; prints only the public key.

import { writeNewKeyFile } from '../../evidence/keyfile.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT } from '../io.js';

export const keygenCommand: Command = {
  name: 'keygen',
  usage: `agentk keygen --out FILE [--force] [--json]

Writes a new Ed25519 seed (64 hex digits) to FILE with mode 0600. Refuses to overwrite
an existing file without --force, and refuses a directory writable by group or others.
Prints the public key and its fingerprint; the private key is never printed. Keep the
file outside the repository, then: AGENTK_SIGNING_KEY_FILE=FILE.`,
  options: { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  run(args, io) {
    const out = stringOption(args, 'out');
    if (out === undefined) throw usageError('--out FILE is required');
    const signer = writeNewKeyFile(out, flag(args, 'force'));
    if (flag(args, 'json')) {
      io.stdout(
        json({ ok: true, out, public_key: signer.publicKey, fingerprint: signer.fingerprint }),
      );
    } else {
      io.stdout(
        `wrote ${out} (mode 0600)\npublic key:  ${signer.publicKey}\nfingerprint: ${signer.fingerprint}\n`,
      );
    }
    return EXIT.ok;
  },
};
