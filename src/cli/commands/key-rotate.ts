// `agentk key-rotate`: a new key, and a public manifest signed by the old and new keys.

import { existsSync, writeFileSync } from 'node:fs';
import { AgentkError } from '../../errors.js';
import { writeNewKeyFile } from '../../evidence/keyfile.js';
import { signerFromFile } from '../../evidence/keys.js';
import { createRotation, rotationText } from '../../evidence/rotation.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT } from '../io.js';

export const keyRotateCommand: Command = {
  name: 'key-rotate',
  usage: `agentk key-rotate --current FILE --next-out FILE --manifest FILE [--json]

Reads the current key, writes a new key to --next-out (mode 0600, never overwriting), and
writes a public rotation manifest to --manifest: the previous and next public keys, the
time, the payload hash, and signatures by both keys. No private material is in it. Check
it with: agentk key-rotate-verify --manifest FILE`,
  options: {
    current: { type: 'string' },
    'next-out': { type: 'string' },
    manifest: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: [0, 0],
  run(args, io) {
    const current = stringOption(args, 'current');
    const nextOut = stringOption(args, 'next-out');
    const manifestPath = stringOption(args, 'manifest');
    if (current === undefined || nextOut === undefined || manifestPath === undefined) {
      throw usageError('--current FILE, --next-out FILE and --manifest FILE are all required');
    }
    const previous = signerFromFile(current);
    if (existsSync(manifestPath)) {
      throw new AgentkError(
        'KEY_EXISTS',
        `${manifestPath} already exists; choose a new manifest path`,
      );
    }
    const next = writeNewKeyFile(nextOut);
    const manifest = createRotation(previous, next, new Date().toISOString());
    try {
      writeFileSync(manifestPath, rotationText(manifest), { flag: 'wx', mode: 0o644 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AgentkError(
        code === 'EEXIST' ? 'KEY_EXISTS' : 'FILE_UNREADABLE',
        code === 'EEXIST'
          ? `${manifestPath} already exists (the new key was written to ${nextOut}; choose another manifest path and rerun with --current ${current})`
          : `cannot write ${manifestPath} (${code ?? 'error'})`,
      );
    }
    if (flag(args, 'json')) {
      io.stdout(
        json({
          ok: true,
          manifest: manifestPath,
          next_key_file: nextOut,
          previous_public_key: previous.publicKey,
          next_public_key: next.publicKey,
        }),
      );
    } else {
      io.stdout(
        `rotated ${previous.fingerprint} -> ${next.fingerprint}\nnew key:  ${nextOut} (mode 0600)\nmanifest: ${manifestPath}\nnext public key: ${next.publicKey}\n`,
      );
    }
    return EXIT.ok;
  },
};
