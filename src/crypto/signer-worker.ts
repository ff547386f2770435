// The worker side of signer-thread.ts: signs messages with the keys the main thread handed
// it. It holds keys of this process only, and decides nothing.

import { type KeyObject, sign } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { SignAnswer, SignRequest } from './signer-thread.js';

const keys = new Map<string, KeyObject>();

parentPort?.on('message', (request: SignRequest) => {
  if (request.keyObject) keys.set(request.key, request.keyObject);
  const key = keys.get(request.key);
  let signature: string | null = null;
  try {
    if (key) signature = sign(null, Buffer.from(request.message), key).toString('hex');
  } catch {
    signature = null;
  }
  parentPort?.postMessage({ id: request.id, signature } satisfies SignAnswer);
});
