// The worker side of parallel signature verification (see signature-pool.ts): verifies
// batches of Ed25519 signatures and reports, through shared memory, how many batches are
// done and whether any signature failed. It decides nothing else.

import { parentPort, workerData } from 'node:worker_threads';
import { verifyEd25519 } from '../crypto/index.js';
import { DONE, FAILED } from './signature-pool.js';

const state = new Int32Array(workerData as SharedArrayBuffer);

parentPort?.on('message', (batch: readonly (readonly [string, string, string])[]) => {
  for (const [publicKey, message, signature] of batch) {
    if (!verifyEd25519(publicKey, message, signature)) Atomics.store(state, FAILED, 1);
  }
  Atomics.add(state, DONE, 1);
  Atomics.notify(state, DONE);
});
