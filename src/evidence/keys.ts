// Where the signing key comes from: AGENTK_SIGNING_KEY_HEX, else AGENTK_SIGNING_KEY_FILE,
// else a static development key that is public by construction. A configured key that is
// malformed or unreadable is an error, never a silent fallback to the development key.
// Input distrusted: environment values and key files; their contents never reach an error.

import { readFileSync, statSync } from 'node:fs';
import { type Signer, sha256Hex, signerFromSeedHex } from '../crypto/index.js';
import { AgentkError } from '../errors.js';

export const SIGNING_KEY_HEX_ENV = 'AGENTK_SIGNING_KEY_HEX';
export const SIGNING_KEY_FILE_ENV = 'AGENTK_SIGNING_KEY_FILE';

/** The development seed is derived from a published string: anyone can sign with it. */
export const DEVELOPMENT_SEED_HEX = sha256Hex(
  'agentk development signing key: public, for demos and tests only, never for evidence',
);

const MAX_KEY_FILE_BYTES = 4096;

export type Environment = Readonly<Record<string, string | undefined>>;

/** Load the active signer from the environment (see module comment for the order). */
export function loadSigner(env: Environment = process.env): Signer {
  const hex = env[SIGNING_KEY_HEX_ENV];
  if (hex !== undefined && hex !== '') {
    try {
      return honest(signerFromSeedHex(hex, 'environment'));
    } catch {
      throw new AgentkError(
        'KEY_MALFORMED',
        `${SIGNING_KEY_HEX_ENV} is not a 32-byte Ed25519 seed (expected 64 hex digits)`,
      );
    }
  }
  const file = env[SIGNING_KEY_FILE_ENV];
  if (file !== undefined && file !== '') return signerFromFile(file);
  return developmentSigner();
}

export function developmentSigner(): Signer {
  return signerFromSeedHex(DEVELOPMENT_SEED_HEX, 'development');
}

let developmentPublicKey: string | undefined;

/**
 * Whether a public key is the development key's. Judged by the key itself, never by a
 * record's own `key_source`, which anyone holding the (public) seed can write.
 */
export function isDevelopmentKey(publicKey: unknown): boolean {
  developmentPublicKey ??= developmentSigner().publicKey;
  return publicKey === developmentPublicKey;
}

/** A configured key that turns out to be the development key is reported as one. */
function honest(signer: Signer): Signer {
  return isDevelopmentKey(signer.publicKey) ? developmentSigner() : signer;
}

/** Read a key file written by `agentk keygen`: 64 hex digits and an optional newline. */
export function signerFromFile(path: string): Signer {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_KEY_FILE_BYTES) {
      throw new AgentkError('KEY_MALFORMED', `signing key file ${path} is too large to be a key`);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof AgentkError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new AgentkError('KEY_UNREADABLE', `cannot read signing key file ${path} (${code})`);
  }
  try {
    return honest(signerFromSeedHex(text, 'file'));
  } catch {
    throw new AgentkError(
      'KEY_MALFORMED',
      `signing key file ${path} does not hold a 32-byte Ed25519 seed (expected 64 hex digits)`,
    );
  }
}
