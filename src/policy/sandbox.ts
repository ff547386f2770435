// The policy's `[sandbox.<server-id>]` tables (docs/sandbox.md): per server, how its
// process is confined when the proxy sandboxes it. A table turns the sandbox on for that
// server, as `--sandbox` does. Unknown keys, relative paths, network entries that are not
// `host:port` and limits out of range are refused with their path, like every other
// policy problem.

import { normalize } from 'node:path';
import * as z from 'zod';
import { SERVER_ID } from '../config/clients.js';
import { describeValue } from '../config/document.js';
import { parseNetworkEntry } from '../sandbox/network.js';
import { DEFAULT_LIMITS, type SandboxProfile } from '../sandbox/profile.js';

const sandboxPath = z
  .string()
  .max(4096)
  .refine((path) => path.startsWith('/') && path !== '/', {
    message: 'a sandbox path is absolute and not "/"',
  })
  .refine((path) => !/(^|\/)\.\.?(\/|$)|\0/.test(path), {
    message: 'a sandbox path has no "." or ".." components',
  })
  .transform((path) => normalize(path).replace(/\/$/, ''));

/** `host:port`: the only form an allow-list entry takes (see sandbox/network.ts). */
const networkEntry = z
  .string()
  .max(300)
  .transform((text, ctx) => {
    const entry = parseNetworkEntry(text);
    if (typeof entry !== 'string') return entry;
    ctx.addIssue({ code: 'custom', message: entry });
    return z.NEVER;
  });

const whole = (min: number, max: number) =>
  z
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .min(min, `at least ${min}`)
    .max(max, `at most ${max}`);

const limitsSchema = z.strictObject({
  memory_mib: whole(64, 1024 * 1024).optional(),
  processes: whole(1, 100_000).optional(),
  open_files: whole(16, 1024 * 1024).optional(),
  file_size_mib: whole(1, 1024 * 1024).optional(),
  cpu_seconds: whole(1, 366 * 86_400).optional(),
  // cgroup cpu.max only: enforced where cgroup v2 is delegated, else reported as not enforced.
  cpu_percent: whole(1, 100 * 1024).optional(),
});

const profileSchema = z.strictObject({
  mode: z
    .enum(['required', 'best-effort'], {
      error: (iss) => `expected "required" or "best-effort", got ${describeValue(iss.input)}`,
    })
    .optional(),
  workspace: z
    .enum(['rw', 'ro', 'none'], {
      error: (iss) => `expected "rw", "ro" or "none", got ${describeValue(iss.input)}`,
    })
    .optional(),
  read: z.array(sandboxPath).max(64).optional(),
  write: z.array(sandboxPath).max(64).optional(),
  // "none" is the empty list; entries are refused one line each, with their index.
  network: z
    .preprocess(
      (value) => (value === 'none' ? [] : value),
      z.array(networkEntry, { error: 'expected "none" or a list of "host:port" entries' }).max(64),
    )
    .optional(),
  limits: limitsSchema.optional(),
});

export const sandboxSchema = z.record(z.string(), profileSchema).superRefine((tables, ctx) => {
  for (const serverId of Object.keys(tables)) {
    if (!SERVER_ID.test(serverId)) {
      ctx.addIssue({
        code: 'custom',
        path: [serverId],
        message: 'a server id is 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit',
      });
    }
  }
});

export type SandboxDocument = z.infer<typeof sandboxSchema>;

/** The profiles of a parsed `[sandbox]` table, defaults filled in. */
export function sandboxProfiles(doc: SandboxDocument): Record<string, SandboxProfile> {
  const profiles: Record<string, SandboxProfile> = {};
  for (const [serverId, table] of Object.entries(doc)) {
    const limits = table.limits ?? {};
    profiles[serverId] = {
      mode: table.mode ?? 'required',
      workspace: table.workspace ?? 'rw',
      read: table.read ?? [],
      write: table.write ?? [],
      network: table.network ?? [],
      limits: {
        memoryMib: limits.memory_mib ?? DEFAULT_LIMITS.memoryMib,
        processes: limits.processes ?? DEFAULT_LIMITS.processes,
        openFiles: limits.open_files ?? DEFAULT_LIMITS.openFiles,
        fileSizeMib: limits.file_size_mib ?? DEFAULT_LIMITS.fileSizeMib,
        cpuSeconds: limits.cpu_seconds ?? DEFAULT_LIMITS.cpuSeconds,
        ...(limits.cpu_percent !== undefined ? { cpuPercent: limits.cpu_percent } : {}),
      },
    };
  }
  return profiles;
}
