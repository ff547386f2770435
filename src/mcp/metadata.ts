// AgentK metadata a client may attach to a request: `params.agentk`, `params._agentk`,
// `params._meta.agentk` and `params._meta["agentk/…"]`, each `{ labels?, intent?,
// capabilities? }`. It may only add restrictions (labels), is never trusted to grant
// anything (capabilities are ignored and reported), and is always stripped before the
// request is forwarded, so no AgentK-only field reaches a server.
// Input distrusted: the client's params.

import { isLabel } from '../labels/labels.js';

export interface ClientMetadata {
  /** Labels as sent (the kernel rejects unknown ones, and ignores `trusted`). */
  readonly labels: readonly unknown[];
  readonly intent: string | undefined;
  /** True when the client tried to claim capabilities (never honoured). */
  readonly claimedCapabilities: boolean;
  /** What is wrong with the metadata, if anything; the request then fails closed. */
  readonly problem: string | undefined;
}

export interface Stripped {
  /** The params without any AgentK metadata (the same object if there was none). */
  readonly params: Record<string, unknown> | undefined;
  readonly stripped: boolean;
  readonly metadata: ClientMetadata;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NONE: ClientMetadata = {
  labels: [],
  intent: undefined,
  claimedCapabilities: false,
  problem: undefined,
};

export function stripAgentkMetadata(params: Record<string, unknown> | undefined): Stripped {
  if (params === undefined) return { params, stripped: false, metadata: NONE };
  const blocks: unknown[] = [];
  let clean: Record<string, unknown> = params;
  for (const key of ['agentk', '_agentk']) {
    if (key in clean) {
      blocks.push(clean[key]);
      const { [key]: _removed, ...rest } = clean;
      clean = rest;
    }
  }
  const meta = clean._meta;
  if (isRecord(meta)) {
    const kept: Record<string, unknown> = {};
    let changed = false;
    for (const [key, value] of Object.entries(meta)) {
      if (key === 'agentk' || key.startsWith('agentk/') || key.startsWith('agentk.')) {
        changed = true;
        blocks.push(key === 'agentk' ? value : { [key.slice(7)]: value });
      } else {
        // Defined, not assigned: a `__proto__` member stays a member.
        Object.defineProperty(kept, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    if (changed) {
      const { _meta: _removed, ...rest } = clean;
      clean = Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest;
    }
  }
  if (blocks.length === 0) return { params, stripped: false, metadata: NONE };

  const labels: unknown[] = [];
  let intent: string | undefined;
  let claimedCapabilities = false;
  let problem: string | undefined;
  for (const block of blocks) {
    if (!isRecord(block)) {
      problem = 'AgentK metadata must be an object';
      continue;
    }
    for (const [key, value] of Object.entries(block)) {
      if (key === 'labels') {
        if (Array.isArray(value) && value.length <= 16 && value.every(isLabel))
          labels.push(...value);
        else problem = 'AgentK metadata labels must be a short list of known labels';
      } else if (key === 'intent') {
        if (typeof value === 'string' && value.length <= 1024) intent = value;
        else problem = 'AgentK metadata intent must be a short string';
      } else if (key === 'capabilities') {
        claimedCapabilities = true;
      } else {
        problem = `unknown AgentK metadata field ${JSON.stringify(key.slice(0, 40))}`;
      }
    }
  }
  return {
    params: clean,
    stripped: true,
    metadata: { labels, intent, claimedCapabilities, problem },
  };
}
