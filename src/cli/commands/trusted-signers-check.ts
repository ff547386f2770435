// `agentk trusted-signers-check --manifest FILE`: validate a trusted-signer manifest.

import { loadTrustManifest } from '../../evidence/trust.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT } from '../io.js';

export const trustedSignersCheckCommand: Command = {
  name: 'trusted-signers-check',
  usage: `agentk trusted-signers-check --manifest FILE [--json]

Checks a manifest of pinned signing keys (version = 1, [[trusted_keys]] with public_key
and label): non-empty, well-formed Ed25519 keys, no duplicate keys or labels. Prints the
count and the labels, never the keys.`,
  options: { manifest: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  run(args, io) {
    const path = stringOption(args, 'manifest');
    if (path === undefined) throw usageError('--manifest FILE is required');
    const manifest = loadTrustManifest(path);
    const labels = manifest.keys.map((key) => key.label);
    if (flag(args, 'json')) {
      io.stdout(
        json({
          ok: true,
          manifest: path,
          version: manifest.version,
          trusted_keys: labels.length,
          labels,
        }),
      );
    } else {
      io.stdout(
        `OK ${path}: version ${manifest.version}, ${labels.length} trusted key${labels.length === 1 ? '' : 's'}: ${labels.map((label) => JSON.stringify(label)).join(', ')}\n`,
      );
    }
    return EXIT.ok;
  },
};
