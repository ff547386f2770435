// `agentk verify-signatures <log>`: chain, then every receipt, handle and seal, with pins.

import { loadTrustManifest, parseTrustedPublicKey, TrustPins } from '../../evidence/trust.js';
import { type SignatureReport, verifySignaturesFile } from '../../evidence/verify-signatures.js';
import { type Command, flag, json, type ParsedArgs, stringOption } from '../command.js';
import { EXIT } from '../io.js';

export const verifySignaturesCommand: Command = {
  name: 'verify-signatures',
  usage: `agentk verify-signatures <log> [--trusted-public-key HEX]... [--trusted-key-manifest FILE] [--json]

Verifies the hash chain, then every receipt, secret handle, checkpoint and seal: Ed25519
only, the signature, the binding to its event (syscall, target, scope, step, agent, run,
previous hash), validity at the time of use, and no reuse. A receipt is authenticated by
the signed checkpoint or seal that covers its event (each receipt is signed itself in
format 1 logs); events no signature covers (an unsealed tail) are named. With pins, any
signature by a key outside the pinned set fails. Signers are shown as redacted
fingerprints.

Exit 0: all verified and sealed. Exit 1: a failure, with its line and reason. Exit 3:
all present signatures verify but the log is unsealed.`,
  options: {
    'trusted-public-key': { type: 'string', multiple: true },
    'trusted-key-manifest': { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: [1, 1],
  run(args, io) {
    const path = args.positionals[0] as string;
    const pins = trustPinsOf(args);
    const { chain, report } = verifySignaturesFile(path, pins);
    const status = chain.ok ? 'verified' : chain.code === 'unsealed' ? 'unsealed' : 'failed';
    const development = report.signers.some((signer) => signer.keySources.includes('development'));
    if (flag(args, 'json')) {
      io.stdout(
        json({
          ok: chain.ok,
          status,
          log: path,
          events: chain.events,
          receipts: report.receipts,
          secret_handles: report.handles,
          seals: report.seals,
          checkpoints: report.checkpoints,
          covered_events: chain.ok ? chain.events : chain.covered,
          signers: report.signers.map((signer) => ({
            fingerprint: signer.fingerprint,
            key_sources: signer.keySources,
            signatures: signer.signatures,
            ...(signer.label !== undefined ? { label: signer.label } : {}),
          })),
          pinned_keys: pins?.size ?? 0,
          development_key: development,
          ...(chain.ok ? {} : { code: chain.code, line: chain.line, detail: chain.detail }),
        }),
      );
    } else {
      const lines: string[] = [];
      if (chain.ok)
        lines.push(
          `OK ${path}: ${chain.events} events; ${counted(report)} verified and bound to their events`,
        );
      else if (chain.code === 'unsealed') {
        lines.push(
          `UNSEALED ${path}: ${chain.events} events; ${counted(report)} verified; ${chain.detail}`,
          `  ${uncovered(chain.covered, chain.events)}`,
        );
      } else lines.push(`FAILED ${path}:${chain.line}: ${chain.detail} [${chain.code}]`);
      for (const signer of report.signers) {
        const label =
          signer.label !== undefined && signer.label !== signer.fingerprint
            ? ` "${signer.label}"`
            : '';
        lines.push(
          `  signer ${signer.fingerprint}${label} (${signer.keySources.join(', ')} key): ${plural(signer.signatures, 'signature')}`,
        );
      }
      if (pins) lines.push(`  pinned to ${plural(pins.size, 'trusted key')}`);
      if (development) {
        lines.push(
          '  note: the development key is public; its signatures prove nothing about who wrote the log',
        );
      }
      io.stdout(`${lines.join('\n')}\n`);
    }
    if (chain.ok) return EXIT.ok;
    return chain.code === 'unsealed' ? EXIT.unsealed : EXIT.failed;
  },
};

/** The keys --trusted-public-key and --trusted-key-manifest pin, or undefined for none. */
export function trustPinsOf(args: ParsedArgs): TrustPins | undefined {
  const keys = (args.values['trusted-public-key'] as string[] | undefined) ?? [];
  const manifestPath = stringOption(args, 'trusted-key-manifest');
  if (keys.length === 0 && manifestPath === undefined) return undefined;
  const pins = new TrustPins();
  keys.forEach((key, i) => {
    pins.add(parseTrustedPublicKey(key, i));
  });
  if (manifestPath !== undefined) {
    for (const key of loadTrustManifest(manifestPath).keys) pins.add(key.publicKey, key.label);
  }
  return pins;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

function counted(report: SignatureReport): string {
  const checkpoints = report.checkpoints > 0 ? `, ${plural(report.checkpoints, 'checkpoint')}` : '';
  return `${plural(report.receipts, 'receipt')}, ${plural(report.handles, 'secret handle')}${checkpoints}, ${plural(report.seals, 'seal')}`;
}

/** What no signature covers in an unsealed log. */
function uncovered(covered: number, events: number): string {
  if (covered >= events) return `every event is covered by a signed checkpoint`;
  const steps = covered + 1 === events ? `event ${events}` : `events ${covered + 1}-${events}`;
  return `${steps} covered by no checkpoint: hash-chained but signed by nothing (the tail a crash leaves)`;
}
