// Reading a policy file: bounded size, strict UTF-8, TOML 1.0 (smol-toml), bounded nesting,
// then parsePolicy(). Every failure is an AgentkError whose problems are one line each.
// Input distrusted: the file's bytes.

import { readFileSync, statSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { AgentkError } from '../errors.js';
import { parsePolicy } from './parse.js';
import { formatIssue, type Policy } from './types.js';

export const MAX_POLICY_BYTES = 1024 * 1024;
const MAX_DEPTH = 16;

/** Read a small text config file: size-capped, UTF-8 only. Shared by policies and manifests. */
export function readConfigText(path: string, what: string, maxBytes = MAX_POLICY_BYTES): string {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new AgentkError('FILE_UNREADABLE', `${what} ${path} is not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof AgentkError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new AgentkError('FILE_NOT_FOUND', `${what} ${path} does not exist`);
    throw new AgentkError('FILE_UNREADABLE', `cannot read ${what} ${path} (${code ?? 'error'})`);
  }
  if (size > maxBytes) {
    throw new AgentkError(
      'FILE_TOO_LARGE',
      `${what} ${path} is ${size} bytes; the limit is ${maxBytes} bytes`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new AgentkError('FILE_UNREADABLE', `cannot read ${what} ${path} (${code})`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AgentkError('NOT_UTF8', `${what} ${path} is not valid UTF-8`);
  }
}

function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Parse TOML text into a plain value, or throw one clear AgentkError. */
export function parseTomlText(
  text: string,
  where: string,
  code: 'POLICY_INVALID' = 'POLICY_INVALID',
): unknown {
  let document: unknown;
  try {
    document = parseToml(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const reason =
        error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'syntax error';
      throw new AgentkError(
        code,
        `${where}:${error.line}:${error.column}: not valid TOML: ${reason}`,
      );
    }
    if (error instanceof RangeError) {
      throw new AgentkError(code, `${where}: not accepted: nested too deeply`);
    }
    throw new AgentkError(code, `${where}: not valid TOML`);
  }
  if (depthExceeds(document, MAX_DEPTH)) {
    throw new AgentkError(code, `${where}: not accepted: nested deeper than ${MAX_DEPTH} levels`);
  }
  return document;
}

/** Parse policy TOML text; throws AgentkError('POLICY_INVALID') listing every problem. */
export function parsePolicyText(text: string, where = 'policy'): Policy {
  const document = parseTomlText(text, where);
  const result = parsePolicy(document);
  if (!result.ok) {
    const problems = result.issues.map((issue) => `${where}: ${formatIssue(issue)}`);
    throw new AgentkError(
      'POLICY_INVALID',
      `${where}: ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}`,
      problems,
    );
  }
  return result.policy;
}

/** Load and validate a policy file. */
export function loadPolicyFile(path: string): Policy {
  return parsePolicyText(readConfigText(path, 'policy'), path);
}
