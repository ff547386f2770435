// `agentk secret-refs-store-check --manifest FILE`: can the configured stores serve them?

import { EnvProvider, loadSecretRefs, ReferenceSecretStore } from '../../secrets/references.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT } from '../io.js';

export const secretRefsStoreCheckCommand: Command = {
  name: 'secret-refs-store-check',
  usage: `agentk secret-refs-store-check --manifest FILE [--json]

Asks the configured stores (the environment-backed store; others plug in through the
SecretProvider interface) whether each reference is available now. Prints available,
missing and unsupported counts; exits 1 unless all are available. Never prints a
reference or a value.`,
  options: { manifest: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [0, 0],
  run(args, io) {
    const path = stringOption(args, 'manifest');
    if (path === undefined) throw usageError('--manifest FILE is required');
    const manifest = loadSecretRefs(path);
    const store = new ReferenceSecretStore(manifest, [new EnvProvider(io.env)]);
    const report = store.check();
    const ok = report.missing === 0 && report.unsupported === 0;
    if (flag(args, 'json')) io.stdout(json({ ok, manifest: path, ...report }));
    else {
      io.stdout(
        `${ok ? 'OK' : 'MISSING'} ${path}: ${report.available} available, ${report.missing} missing, ${report.unsupported} unsupported\n`,
      );
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};
