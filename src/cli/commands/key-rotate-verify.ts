// `agentk key-rotate-verify --manifest FILE`: check a rotation manifest, byte for byte.

import { readConfigText } from '../../config/document.js';
import { fingerprintOf } from '../../crypto/index.js';
import { MAX_ROTATION_BYTES, verifyRotationText } from '../../evidence/rotation.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT } from '../io.js';

export const keyRotateVerifyCommand: Command = {
  name: 'key-rotate-verify',
  usage: `agentk key-rotate-verify --manifest FILE [--json]

Checks that the manifest is exactly the canonical JSON that key-rotate wrote, that its
payload hash matches, and that the previous and the next key both signed it.`,
  options: { manifest: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  run(args, io) {
    const path = stringOption(args, 'manifest');
    if (path === undefined) throw usageError('--manifest FILE is required');
    const result = verifyRotationText(
      readConfigText(path, 'rotation manifest', MAX_ROTATION_BYTES),
    );
    if (flag(args, 'json')) {
      io.stdout(
        json(
          result.ok
            ? {
                ok: true,
                manifest: path,
                previous: fingerprintOf(result.manifest.previous_public_key),
                next: fingerprintOf(result.manifest.next_public_key),
                rotated_at: result.manifest.rotated_at,
              }
            : { ok: false, manifest: path, reason: result.reason },
        ),
      );
    } else if (result.ok) {
      io.stdout(
        `OK ${path}: ${fingerprintOf(result.manifest.previous_public_key)} -> ${fingerprintOf(result.manifest.next_public_key)} at ${result.manifest.rotated_at}, signed by both keys\n`,
      );
    } else {
      io.stdout(`FAILED ${path}: ${result.reason}\n`);
    }
    return result.ok ? EXIT.ok : EXIT.failed;
  },
};
