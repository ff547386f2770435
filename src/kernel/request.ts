// parseRequest(): the kernel's front door. A request from anywhere (library code, an MCP
// client, a plugin) is `unknown` until this says otherwise; a malformed one becomes a
// recorded denial, never an exception that could skip the log.

import { canonicalize } from '../crypto/canonical.js';
import { isLabel } from '../labels/labels.js';
import { isSyscallKind } from '../vocabulary.js';
import type { SyscallRequest } from './types.js';

export const MAX_TARGET_CHARS = 4096;
export const MAX_INTENT_CHARS = 4096;
export const MAX_INPUTS = 256;
/** A secret handle lives at most a day. */
export const MAX_HANDLE_TTL_MS = 24 * 60 * 60 * 1000;
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export type ParsedRequest =
  | { readonly ok: true; readonly request: SyscallRequest }
  | {
      readonly ok: false;
      readonly kind: string;
      readonly target: string;
      readonly problem: string;
    };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJsonData(value: unknown): boolean {
  try {
    canonicalize(value);
    return true;
  } catch {
    return false;
  }
}

const COMMON_KEYS = ['kind', 'target', 'intent', 'labels', 'inputs'];
const KIND_KEYS: Record<string, readonly string[]> = {
  'context.read': ['content'],
  'model.call': ['prompt'],
  'memory.write': ['content'],
  'tool.describe': ['descriptor'],
  'resource.describe': ['descriptor'],
  'prompt.describe': ['descriptor'],
  'tool.invoke': ['args'],
  'resource.read': ['args'],
  'prompt.get': ['args'],
  'tool.response': ['content', 'isError'],
  'resource.response': ['content', 'isError'],
  'prompt.response': ['content', 'isError'],
  'secret.open': ['scope', 'ttlMs'],
  'network.send': ['method', 'body'],
  'file.patch': ['diff'],
  'human.approve': ['approver', 'approved', 'note', 'question'],
  'agent.spawn': ['task'],
};

const INPUT_REF: Readonly<Record<string, RegExp>> = {
  page: /^p[1-9][0-9]{0,11}$/,
  handle: /^secret_fd_[0-9a-f]{32}$/,
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused.
  memory: /^[^\u0000-\u001f]{1,256}$/u,
};

function inputProblem(input: unknown, index: number): string | undefined {
  const where = `inputs[${index}]`;
  if (!isRecord(input)) return `${where} is not an object`;
  const keys = Object.keys(input);
  if ('page' in input || 'handle' in input || 'memory' in input) {
    const [key] = keys;
    if (keys.length !== 1 || key === undefined) {
      return `${where} must have exactly one of page, handle, memory`;
    }
    const value = input[key];
    const pattern = INPUT_REF[key];
    if (typeof value !== 'string' || !pattern?.test(value) || !value.isWellFormed()) {
      return `${where}.${key} is not a ${key} reference`;
    }
    return undefined;
  }
  if ('sha256' in input) {
    if (typeof input.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(input.sha256)) {
      return `${where}.sha256 must be 64 lowercase hex digits`;
    }
    if (keys.some((key) => key !== 'sha256' && key !== 'labels'))
      return `${where} has unknown keys`;
    if (
      input.labels !== undefined &&
      (!Array.isArray(input.labels) || !input.labels.every(isLabel))
    ) {
      return `${where}.labels must be a list of known labels`;
    }
    return undefined;
  }
  return `${where} must reference a page, handle, memory or sha256`;
}

function wellFormed(value: unknown): boolean {
  return typeof value === 'string' && value.isWellFormed();
}

/** Check an untrusted request's shape. Unknown kinds pass through (the kernel denies them). */
export function parseRequest(value: unknown): ParsedRequest {
  if (!isRecord(value))
    return { ok: false, kind: 'invalid', target: '', problem: 'request is not an object' };
  const kind =
    typeof value.kind === 'string' && value.kind.length <= 64 && wellFormed(value.kind)
      ? value.kind
      : 'invalid';
  const target = typeof value.target === 'string' ? value.target.slice(0, MAX_TARGET_CHARS) : '';
  const fail = (problem: string): ParsedRequest => ({ ok: false, kind, target, problem });

  if (kind === 'invalid') return fail('kind must be a syscall name');
  if (
    typeof value.target !== 'string' ||
    value.target.length === 0 ||
    !value.target.isWellFormed()
  ) {
    return fail('target must be a non-empty, well-formed string');
  }
  if (value.target.length > MAX_TARGET_CHARS)
    return fail(`target longer than ${MAX_TARGET_CHARS} characters`);
  if (
    value.intent !== undefined &&
    (typeof value.intent !== 'string' ||
      value.intent.length > MAX_INTENT_CHARS ||
      !value.intent.isWellFormed())
  ) {
    return fail(`intent must be a string of at most ${MAX_INTENT_CHARS} characters`);
  }
  if (value.labels !== undefined) {
    if (!Array.isArray(value.labels) || value.labels.length > 16)
      return fail('labels must be a short list');
    // The offending value is never echoed: it may be anything, a credential included.
    const bad = value.labels.findIndex((label) => !isLabel(label));
    if (bad !== -1) return fail(`labels[${bad}] is not a known label`);
  }
  if (value.inputs !== undefined) {
    if (!Array.isArray(value.inputs) || value.inputs.length > MAX_INPUTS) {
      return fail(`inputs must be a list of at most ${MAX_INPUTS} references`);
    }
    for (let i = 0; i < value.inputs.length; i++) {
      const problem = inputProblem(value.inputs[i], i);
      if (problem) return fail(problem);
    }
  }
  if (!isSyscallKind(kind)) return { ok: true, request: value as unknown as SyscallRequest };

  const allowed = new Set([...COMMON_KEYS, ...(KIND_KEYS[kind] ?? [])]);
  const unknownKey = Object.keys(value).find((key) => !allowed.has(key));
  if (unknownKey !== undefined) {
    const hint = unknownKey === 'agent' ? " (the acting agent is the harness's to set)" : '';
    return fail(`unknown field for ${kind}${hint}`);
  }

  const isContent = (v: unknown) => typeof v === 'string' || v instanceof Uint8Array;
  switch (kind) {
    case 'context.read':
      if (value.content !== undefined && !isContent(value.content))
        return fail('content must be a string or bytes');
      break;
    case 'memory.write':
      if (!isContent(value.content)) return fail('content must be a string or bytes');
      break;
    case 'model.call':
      if (value.prompt !== undefined && typeof value.prompt !== 'string')
        return fail('prompt must be a string');
      break;
    case 'tool.describe':
    case 'resource.describe':
    case 'prompt.describe':
      if (value.descriptor === undefined || !isJsonData(value.descriptor))
        return fail('descriptor must be JSON data');
      break;
    case 'tool.invoke':
    case 'resource.read':
    case 'prompt.get':
      if (value.args !== undefined && (!isRecord(value.args) || !isJsonData(value.args))) {
        return fail('args must be an object of JSON data');
      }
      break;
    case 'tool.response':
    case 'resource.response':
    case 'prompt.response':
      if (value.content === undefined || !(isContent(value.content) || isJsonData(value.content))) {
        return fail('content must be a string, bytes or JSON data');
      }
      if (value.isError !== undefined && typeof value.isError !== 'boolean')
        return fail('isError must be a boolean');
      break;
    case 'secret.open':
      if (
        value.scope !== undefined &&
        (!Array.isArray(value.scope) ||
          value.scope.length === 0 ||
          value.scope.length > 32 ||
          !value.scope.every(
            (s) =>
              typeof s === 'string' &&
              // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused.
              /^[a-z.*?]+:[^\u0000-\u001f]{1,500}$/u.test(s) &&
              s.isWellFormed(),
          ))
      ) {
        return fail(
          'scope must be a non-empty list of capability patterns like "tool.invoke:git/*"',
        );
      }
      if (
        value.ttlMs !== undefined &&
        !(
          Number.isSafeInteger(value.ttlMs) &&
          (value.ttlMs as number) > 0 &&
          (value.ttlMs as number) <= MAX_HANDLE_TTL_MS
        )
      ) {
        return fail(`ttlMs must be a whole number of milliseconds up to ${MAX_HANDLE_TTL_MS}`);
      }
      break;
    case 'network.send':
      if (
        value.method !== undefined &&
        (typeof value.method !== 'string' || !/^[A-Za-z]{1,16}$/.test(value.method))
      ) {
        return fail('method must be an HTTP method name');
      }
      if (value.body !== undefined && !(isContent(value.body) || isJsonData(value.body))) {
        return fail('body must be a string, bytes or JSON data');
      }
      break;
    case 'file.patch':
      if (typeof value.diff !== 'string') return fail('diff must be a string (a unified diff)');
      break;
    case 'human.approve':
      if (value.approver === undefined && value.approved === undefined) {
        // A question for a person (an MCP server's elicitation): mediated before it is shown.
        if (value.question !== undefined && !isJsonData(value.question)) {
          return fail('question must be JSON data');
        }
        break;
      }
      if (
        typeof value.approver !== 'string' ||
        value.approver.length === 0 ||
        value.approver.length > 256
      ) {
        return fail('approver must name who approved');
      }
      if (typeof value.approved !== 'boolean') return fail('approved must be true or false');
      if (value.note !== undefined && typeof value.note !== 'string') {
        return fail('note must be a string');
      }
      if (!/^[0-9a-f]{64}$/.test(value.target)) {
        return fail('target must be the request hash being answered');
      }
      break;
    case 'agent.spawn':
      if (!AGENT_ID_PATTERN.test(value.target)) return fail('target must be the child agent id');
      if (value.task !== undefined && typeof value.task !== 'string')
        return fail('task must be a string');
      break;
  }
  return { ok: true, request: value as unknown as SyscallRequest };
}
