// Reading a policy file: bounded size, strict UTF-8, TOML 1.0 (smol-toml), bounded nesting,
// then parsePolicy(). Every failure is an AgentkError whose problems are one line each.
// Input distrusted: the file's bytes.

import {
  invalidDocument,
  MAX_CONFIG_BYTES,
  parseTomlText,
  readConfigText,
} from '../config/document.js';
import { parsePolicy } from './parse.js';
import type { Policy } from './types.js';

export const MAX_POLICY_BYTES = MAX_CONFIG_BYTES;

/** Parse policy TOML text; throws AgentkError('POLICY_INVALID') listing every problem. */
export function parsePolicyText(text: string, where = 'policy'): Policy {
  const document = parseTomlText(text, where, 'POLICY_INVALID');
  const result = parsePolicy(document);
  if (!result.ok) invalidDocument('POLICY_INVALID', where, result.issues);
  return result.policy;
}

/** Load and validate a policy file. */
export function loadPolicyFile(path: string): Policy {
  return parsePolicyText(readConfigText(path, 'policy'), path);
}
