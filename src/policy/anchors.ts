// `[anchors]`: where every seal is also kept, out of the agent host's reach
// (docs/flight-log.md, "Anchored seals"): files and git work trees (an absolute path or
// one under the home directory, `~/...`, resolved when the seal is anchored), and anchor
// services over HTTP (https, or http to this machine), with headers whose `${VAR}`s are
// filled from the environment when used.
// Input distrusted: the policy document.

import * as z from 'zod';
import { isLoopbackHost } from '../config/variables.js';

const MAX_ANCHORS = 16;

const anchorPath = z
  .string()
  .max(4096, 'an anchor path is at most 4096 characters')
  .refine((path) => (path.startsWith('/') || path.startsWith('~/')) && !path.includes('\0'), {
    message: 'an anchor path is absolute or starts with "~/"',
  });

const anchorUrl = z
  .url({ protocol: /^https?$/, error: 'an anchor URL is an http(s) URL' })
  .refine((text) => new URL(text).protocol === 'https:' || isLoopbackHost(new URL(text).hostname), {
    message: 'an anchor URL is https, or http to this machine',
  })
  .refine((text) => new URL(text).username === '' && new URL(text).password === '', {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the policy's own variable syntax.
    message: 'an anchor URL carries no credentials (put them in [anchors] headers, as ${VAR})',
  });

export const anchorsSchema = z.strictObject({
  /** Files each seal is appended to (one JSON line per seal). */
  files: z.array(anchorPath).max(MAX_ANCHORS).optional(),
  /** Git work trees each seal is committed to (`seals/<run id>.json`, a commit per seal). */
  git: z.array(anchorPath).max(MAX_ANCHORS).optional(),
  /** Anchor services each seal is POSTed to (docs/flight-log.md has the protocol). */
  http: z.array(anchorUrl).max(MAX_ANCHORS).optional(),
  /** Headers sent to the anchor services; `${VAR}` in a value is read from the environment. */
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name'), z.string().max(4096))
    .optional(),
});

/** The policy's anchors, as written (a `~/` path still to be resolved). */
export interface PolicyAnchors {
  readonly files: readonly string[];
  readonly git: readonly string[];
  readonly http: readonly string[];
  /** As written: values may still name `${VAR}`s. */
  readonly headers: Readonly<Record<string, string>>;
}

export function policyAnchors(doc: z.infer<typeof anchorsSchema>): PolicyAnchors {
  return {
    files: doc.files ?? [],
    git: doc.git ?? [],
    http: doc.http ?? [],
    headers: { ...doc.headers },
  };
}

/** Anchor paths with `~/` resolved against `home`. */
export function resolveAnchors(anchors: PolicyAnchors, home: string): PolicyAnchors {
  const resolve = (path: string) => (path.startsWith('~/') ? `${home}${path.slice(1)}` : path);
  return { ...anchors, files: anchors.files.map(resolve), git: anchors.git.map(resolve) };
}
