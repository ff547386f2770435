// Signing off the main thread: one worker per process signs the messages of every signer
// this process made (its key object is handed to the worker once), so a checkpoint's
// Ed25519 signature costs the main thread a message, not the signature. Where no worker
// can run (the compiled worker is missing, it failed to start or died) or the signer is
// not one of ours, the signature is made on the main thread in a later turn instead:
// slower, never lost.

import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { compiledWorkerExists } from '../paths.js';
import { type Signer, signingKeyOf } from './index.js';

const WORKER_URL = new URL('./signer-worker.js', import.meta.url);

/** A message for the worker: the key travels only with the first message for it. */
export interface SignRequest {
  readonly id: number;
  readonly key: string;
  readonly keyObject?: KeyObject;
  readonly message: string;
}
export interface SignAnswer {
  readonly id: number;
  readonly signature: string | null;
}

interface Waiting {
  readonly signer: Signer;
  readonly message: string;
  readonly resolve: (signature: string) => void;
}

let worker: Worker | null = null;
/** Set once a worker failed: from then on this process signs on its main thread. */
let unavailable = false;
let nextId = 1;
const waiting = new Map<number, Waiting>();
/** Keys the current worker holds, by public key. */
let keysSent = new Set<string>();

function onMain(signer: Signer, message: string, resolve: (signature: string) => void): void {
  setImmediate(() => resolve(signer.signHex(message)));
}

/** The worker failed: everything it still owed is signed on the main thread. */
function abandon(): void {
  unavailable = true;
  worker = null;
  keysSent = new Set();
  const owed = [...waiting.values()];
  waiting.clear();
  for (const { signer, message, resolve } of owed) onMain(signer, message, resolve);
}

function started(): Worker | null {
  if (worker || unavailable) return worker;
  if (!compiledWorkerExists(WORKER_URL)) {
    unavailable = true;
    return null;
  }
  try {
    const thread = new Worker(WORKER_URL);
    thread.on('message', (answer: SignAnswer) => {
      const request = waiting.get(answer.id);
      if (!request) return;
      waiting.delete(answer.id);
      if (answer.signature === null) onMain(request.signer, request.message, request.resolve);
      else request.resolve(answer.signature);
    });
    thread.on('error', abandon);
    thread.on('exit', () => {
      if (worker === thread) abandon();
    });
    thread.unref();
    worker = thread;
  } catch {
    unavailable = true;
  }
  return worker;
}

/** Sign `message` with `signer` off the main thread where possible; resolves to hex. */
export function signLater(signer: Signer, message: string): Promise<string> {
  return new Promise((resolve) => {
    const key = signingKeyOf(signer);
    const thread = key ? started() : null;
    if (!key || !thread) {
      onMain(signer, message, resolve);
      return;
    }
    const id = nextId++;
    const first = !keysSent.has(signer.publicKey);
    waiting.set(id, { signer, message, resolve });
    const request: SignRequest = first
      ? { id, key: signer.publicKey, keyObject: key, message }
      : { id, key: signer.publicKey, message };
    try {
      thread.postMessage(request);
      keysSent.add(signer.publicKey);
    } catch {
      abandon();
    }
  });
}
