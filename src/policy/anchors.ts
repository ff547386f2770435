// `[anchors]`: where every seal is also kept, out of the agent host's reach
// (docs/flight-log.md, "Anchored seals"). Paths only: an absolute path or one under the
// home directory (`~/...`), resolved when the seal is anchored.
// Input distrusted: the policy document.

import * as z from 'zod';

const MAX_ANCHORS = 16;

const anchorPath = z
  .string()
  .max(4096, 'an anchor path is at most 4096 characters')
  .refine((path) => (path.startsWith('/') || path.startsWith('~/')) && !path.includes('\0'), {
    message: 'an anchor path is absolute or starts with "~/"',
  });

export const anchorsSchema = z.strictObject({
  /** Files each seal is appended to (one JSON line per seal). */
  files: z.array(anchorPath).max(MAX_ANCHORS).optional(),
  /** Git work trees each seal is committed to (`seals/<run id>.json`, a commit per seal). */
  git: z.array(anchorPath).max(MAX_ANCHORS).optional(),
});

/** The policy's anchors, as written (a `~/` path still to be resolved). */
export interface PolicyAnchors {
  readonly files: readonly string[];
  readonly git: readonly string[];
}

export function policyAnchors(doc: z.infer<typeof anchorsSchema>): PolicyAnchors {
  return { files: doc.files ?? [], git: doc.git ?? [] };
}

/** Anchor paths with `~/` resolved against `home`. */
export function resolveAnchors(anchors: PolicyAnchors, home: string): PolicyAnchors {
  const resolve = (path: string) => (path.startsWith('~/') ? `${home}${path.slice(1)}` : path);
  return { files: anchors.files.map(resolve), git: anchors.git.map(resolve) };
}
