// `agentk secret-refs-check --manifest FILE`: validate a secret-reference manifest.

import { loadSecretRefs } from '../../secrets/references.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT } from '../io.js';

export const secretRefsCheckCommand: Command = {
  name: 'secret-refs-check',
  usage: `agentk secret-refs-check --manifest FILE [--json]

Checks a manifest (version = 1, [[secrets]] with target, provider, reference): unique
secret:// targets, known providers, and references valid for their provider (env:
environment-safe names). Prints the version and counts only.`,
  options: { manifest: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  run(args, io) {
    const path = stringOption(args, 'manifest');
    if (path === undefined) throw usageError('--manifest FILE is required');
    const manifest = loadSecretRefs(path);
    const byProvider: Record<string, number> = {};
    for (const entry of manifest.secrets)
      byProvider[entry.provider] = (byProvider[entry.provider] ?? 0) + 1;
    if (flag(args, 'json')) {
      io.stdout(
        json({
          ok: true,
          manifest: path,
          version: manifest.version,
          secrets: manifest.secrets.length,
          providers: byProvider,
        }),
      );
    } else {
      const providers = Object.entries(byProvider)
        .map(([provider, count]) => `${provider}: ${count}`)
        .join(', ');
      io.stdout(
        `OK ${path}: version ${manifest.version}, ${manifest.secrets.length} secret reference${manifest.secrets.length === 1 ? '' : 's'} (${providers})\n`,
      );
    }
    return EXIT.ok;
  },
};
