// Configuration documents (policies, manifests): bounded, strictly decoded, parsed into
// `unknown`, then checked by a schema that reports every problem with its path. Values
// from the document are described in errors only where they are safe to echo: a schema
// for a field that may hold a secret reference or key must use messages that do not.
// Input distrusted: the file's bytes.

import { readFileSync, statSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import type * as z from 'zod';
import { nestedDeeperThan } from '../depth.js';
import { AgentkError } from '../errors.js';

export const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_DEPTH = 16;

export interface ConfigIssue {
  /** Where in the document, e.g. `rules[3].when.labels_any[0]`. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

export type InvalidCode = 'POLICY_INVALID' | 'MANIFEST_INVALID' | 'SCENARIO_INVALID';

/** Throw one AgentkError listing every issue, one line each, prefixed by the file. */
export function invalidDocument(
  code: InvalidCode,
  where: string,
  issues: readonly ConfigIssue[],
): never {
  throw new AgentkError(
    code,
    `${where}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`,
    issues.map((issue) => `${where}: ${formatIssue(issue)}`),
  );
}

/** Read a small text config file: size-capped, UTF-8 only. */
export function readConfigText(path: string, what: string, maxBytes = MAX_CONFIG_BYTES): string {
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

/** Parse TOML text into a plain value, or throw one clear AgentkError. */
export function parseTomlText(text: string, where: string, code: InvalidCode): unknown {
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
  if (nestedDeeperThan(document, MAX_DEPTH)) {
    throw new AgentkError(code, `${where}: not accepted: nested deeper than ${MAX_DEPTH} levels`);
  }
  return document;
}

/** A short, safe description of a value for an error message. */
export function describeValue(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'string') {
    return JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input);
  }
  if (typeof input === 'object') return 'a table';
  return `${typeof input} ${String(input)}`;
}

/** `['rules', 3, 'when', 'labels_any', 0]` -> `rules[3].when.labels_any[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) {
      out += out === '' ? part : `.${part}`;
    } else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/**
 * Describe type errors in the document's own terms (a TOML table, not an object). With
 * `echo: false` the offending value is never quoted (for documents holding references).
 */
export function typeErrorMap(echo = true): z.core.$ZodErrorMap {
  return (iss) => {
    if (iss.code !== 'invalid_type') return undefined;
    const expected = iss.expected === 'object' ? 'a table' : iss.expected;
    if (iss.input === undefined) return `missing required key (expected ${expected})`;
    return echo
      ? `expected ${expected}, got ${describeValue(iss.input)}`
      : `expected ${expected}, got ${Array.isArray(iss.input) ? 'an array' : typeof iss.input}`;
  };
}

/** Zod issues as config issues: one per unknown key, one per other problem. */
export function zodIssues(error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
      }
    } else {
      issues.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return issues;
}
