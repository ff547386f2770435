// `agentk signing-key`: the active public key, its source, and whether it is fit for evidence.

import { keyFileProblems } from '../../evidence/keyfile.js';
import { loadSigner, SIGNING_KEY_FILE_ENV } from '../../evidence/keys.js';
import { type Command, flag, json } from '../command.js';
import { EXIT } from '../io.js';

export const signingKeyCommand: Command = {
  name: 'signing-key',
  usage: `agentk signing-key [--json]

Prints the public key that signs evidence (64 hex digits), its fingerprint, where it
comes from (environment: AGENTK_SIGNING_KEY_HEX, file: AGENTK_SIGNING_KEY_FILE,
development: the static public key), and whether it is production-ready: not the
development key, and a key file readable only by its owner in a directory only its owner
can write.`,
  options: { json: { type: 'boolean' } },
  positionals: [0, 0],
  run(args, io) {
    const signer = loadSigner(io.env);
    const problems: string[] = [];
    if (signer.source === 'development') {
      problems.push('the development key is public: anyone can sign with it');
    }
    const file = io.env[SIGNING_KEY_FILE_ENV];
    if (signer.source === 'file' && file) problems.push(...keyFileProblems(file));
    const ready = problems.length === 0;
    if (flag(args, 'json')) {
      io.stdout(
        json({
          public_key: signer.publicKey,
          fingerprint: signer.fingerprint,
          source: signer.source,
          production_ready: ready,
          problems,
        }),
      );
    } else {
      io.stdout(
        [
          `public key:       ${signer.publicKey}`,
          `fingerprint:      ${signer.fingerprint}`,
          `source:           ${signer.source}`,
          `production-ready: ${ready ? 'yes' : 'no'}`,
          ...problems.map((problem) => `  - ${problem}`),
          '',
        ].join('\n'),
      );
    }
    return EXIT.ok;
  },
};
