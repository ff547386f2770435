// What the MCP commands share: options for policy and trace, and building the kernel.

import { join } from 'node:path';
import { loadSigner } from '../evidence/keys.js';
import { Kernel } from '../kernel/kernel.js';
import { newRunId } from '../kernel/options.js';
import { DEFAULT_POLICY_PATH, RUNS_DIR } from '../paths.js';
import { loadPolicyFile } from '../policy/load.js';
import { type ParsedArgs, stringOption, usageError } from './command.js';
import type { CliIo } from './io.js';

export const KERNEL_OPTIONS = {
  policy: { type: 'string' },
  'trace-out': { type: 'string' },
  'server-id': { type: 'string' },
} as const;

export const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A kernel recording to --trace-out (or .agentk/runs/<prefix>-<run-id>.jsonl). */
export function commandKernel(args: ParsedArgs, io: CliIo, prefix: string): Kernel {
  const policy = loadPolicyFile(stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH);
  const runId = newRunId();
  const trace =
    stringOption(args, 'trace-out') ?? join(io.cwd, RUNS_DIR, `${prefix}-${runId}.jsonl`);
  return new Kernel({ policy, signer: loadSigner(io.env), runId, trace: { path: trace } });
}

export function serverIdOption(args: ParsedArgs, fallback: string): string {
  const id = stringOption(args, 'server-id') ?? fallback;
  if (!SERVER_ID.test(id)) throw usageError('--server-id must be 1-64 of A-Z a-z 0-9 . _ -');
  return id;
}

/** Read all of stdin, refusing more than `limit` bytes. */
export async function readBoundedStdin(io: CliIo, limit: number): Promise<Buffer> {
  const input = io.stdin;
  if (!input) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > limit) throw usageError(`stdin exceeds ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
