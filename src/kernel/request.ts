// parseRequest(): the kernel's front door. A request from anywhere (library code, an MCP
// client, a plugin) is `unknown` until this says otherwise; a malformed one becomes a
// recorded denial, never an exception that could skip the log.

import { isLabel } from '../labels/labels.js';
import { isSyscallKind, type SyscallKind } from '../vocabulary.js';
import { ContentReader } from './content.js';
import type { SyscallOptions, SyscallRequest } from './types.js';

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
  'human.approve': ['approver', 'approved', 'note', 'scope', 'clear_compromised', 'question'],
  'agent.spawn': ['task'],
};

/** The fields each known kind may carry, as sets (built once, not per request). */
const ALLOWED_KEYS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries(KIND_KEYS).map(([kind, keys]) => [kind, new Set([...COMMON_KEYS, ...keys])]),
);
const COMMON_KEY_SET: ReadonlySet<string> = new Set(COMMON_KEYS);

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

/** Whether a value is JSON data (has a canonical form), through the syscall's reader. */
type JsonCheck = (value: unknown) => boolean;

function isContent(value: unknown): boolean {
  return typeof value === 'string' || value instanceof Uint8Array;
}

/** The problem with the fields every request has (target, intent, labels, inputs), if any. */
function commonProblem(value: Record<string, unknown>): string | undefined {
  if (
    typeof value.target !== 'string' ||
    value.target.length === 0 ||
    !value.target.isWellFormed()
  ) {
    return 'target must be a non-empty, well-formed string';
  }
  if (value.target.length > MAX_TARGET_CHARS)
    return `target longer than ${MAX_TARGET_CHARS} characters`;
  if (
    value.intent !== undefined &&
    (typeof value.intent !== 'string' ||
      value.intent.length > MAX_INTENT_CHARS ||
      !value.intent.isWellFormed())
  ) {
    return `intent must be a string of at most ${MAX_INTENT_CHARS} characters`;
  }
  if (value.labels !== undefined) {
    if (!Array.isArray(value.labels) || value.labels.length > 16)
      return 'labels must be a short list';
    // The offending value is never echoed: it may be anything, a credential included.
    const bad = value.labels.findIndex((label) => !isLabel(label));
    if (bad !== -1) return `labels[${bad}] is not a known label`;
  }
  if (value.inputs !== undefined) {
    if (!Array.isArray(value.inputs) || value.inputs.length > MAX_INPUTS) {
      return `inputs must be a list of at most ${MAX_INPUTS} references`;
    }
    for (let i = 0; i < value.inputs.length; i++) {
      const problem = inputProblem(value.inputs[i], i);
      if (problem) return problem;
    }
  }
  return undefined;
}

type KindCheck = (value: Record<string, unknown>, json: JsonCheck) => string | undefined;

const descriptorCheck: KindCheck = (value, json) =>
  value.descriptor === undefined || !json(value.descriptor)
    ? 'descriptor must be JSON data'
    : undefined;
const argsCheck: KindCheck = (value, json) =>
  value.args !== undefined && (!isRecord(value.args) || !json(value.args))
    ? 'args must be an object of JSON data'
    : undefined;
const responseCheck: KindCheck = (value, json) => {
  if (value.content === undefined || !(isContent(value.content) || json(value.content))) {
    return 'content must be a string, bytes or JSON data';
  }
  if (value.isError !== undefined && typeof value.isError !== 'boolean')
    return 'isError must be a boolean';
  return undefined;
};

function scopeProblem(scope: unknown): string | undefined {
  const valid =
    Array.isArray(scope) &&
    scope.length > 0 &&
    scope.length <= 32 &&
    scope.every(
      (s) =>
        typeof s === 'string' &&
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused.
        /^[a-z.*?]+:[^\u0000-\u001f]{1,500}$/u.test(s) &&
        s.isWellFormed(),
    );
  return valid
    ? undefined
    : 'scope must be a non-empty list of capability patterns like "tool.invoke:git/*"';
}

function approvalProblem(value: Record<string, unknown>, json: JsonCheck): string | undefined {
  if (value.approver === undefined && value.approved === undefined) {
    // A question for a person (an MCP server's elicitation): mediated before it is shown.
    return value.question !== undefined && !json(value.question)
      ? 'question must be JSON data'
      : undefined;
  }
  if (
    typeof value.approver !== 'string' ||
    value.approver.length === 0 ||
    value.approver.length > 256
  ) {
    return 'approver must name who approved';
  }
  if (typeof value.approved !== 'boolean') return 'approved must be true or false';
  if (value.note !== undefined && typeof value.note !== 'string') return 'note must be a string';
  if (value.scope !== undefined && value.scope !== 'once' && value.scope !== 'session') {
    return 'scope must be "once" or "session"';
  }
  if (value.clear_compromised !== undefined && typeof value.clear_compromised !== 'boolean') {
    return 'clear_compromised must be true or false';
  }
  if (!/^[0-9a-f]{64}$/.test(value.target as string)) {
    return 'target must be the request hash being answered';
  }
  return undefined;
}

/** The checks of each kind's own fields. */
const KIND_CHECKS: Readonly<Record<SyscallKind, KindCheck>> = {
  'context.read': (value) =>
    value.content !== undefined && !isContent(value.content)
      ? 'content must be a string or bytes'
      : undefined,
  'memory.write': (value) =>
    isContent(value.content) ? undefined : 'content must be a string or bytes',
  'model.call': (value) =>
    value.prompt !== undefined && typeof value.prompt !== 'string'
      ? 'prompt must be a string'
      : undefined,
  'tool.describe': descriptorCheck,
  'resource.describe': descriptorCheck,
  'prompt.describe': descriptorCheck,
  'tool.invoke': argsCheck,
  'resource.read': argsCheck,
  'prompt.get': argsCheck,
  'tool.response': responseCheck,
  'resource.response': responseCheck,
  'prompt.response': responseCheck,
  'secret.open': (value) => {
    if (value.scope !== undefined) {
      const problem = scopeProblem(value.scope);
      if (problem) return problem;
    }
    const ttl = value.ttlMs;
    return ttl !== undefined &&
      !(Number.isSafeInteger(ttl) && (ttl as number) > 0 && (ttl as number) <= MAX_HANDLE_TTL_MS)
      ? `ttlMs must be a whole number of milliseconds up to ${MAX_HANDLE_TTL_MS}`
      : undefined;
  },
  'network.send': (value, json) => {
    if (
      value.method !== undefined &&
      (typeof value.method !== 'string' || !/^[A-Za-z]{1,16}$/.test(value.method))
    ) {
      return 'method must be an HTTP method name';
    }
    return value.body !== undefined && !(isContent(value.body) || json(value.body))
      ? 'body must be a string, bytes or JSON data'
      : undefined;
  },
  'file.patch': (value) =>
    typeof value.diff === 'string' ? undefined : 'diff must be a string (a unified diff)',
  'human.approve': approvalProblem,
  'agent.spawn': (value) => {
    if (!AGENT_ID_PATTERN.test(value.target as string)) return 'target must be the child agent id';
    return value.task !== undefined && typeof value.task !== 'string'
      ? 'task must be a string'
      : undefined;
  },
};

/**
 * Check an untrusted request's shape. Unknown kinds pass through (the kernel denies them).
 * JSON data is checked by hashing its canonical form through `reader`, which keeps the
 * hash for the kernel: one encoding per value.
 */
export function parseRequest(
  value: unknown,
  reader: Pick<ContentReader, 'canonicalHash'> = new ContentReader(),
): ParsedRequest {
  if (!isRecord(value))
    return { ok: false, kind: 'invalid', target: '', problem: 'request is not an object' };
  const kind =
    typeof value.kind === 'string' && value.kind.length <= 64 && wellFormed(value.kind)
      ? value.kind
      : 'invalid';
  const target = typeof value.target === 'string' ? value.target.slice(0, MAX_TARGET_CHARS) : '';
  const fail = (problem: string): ParsedRequest => ({ ok: false, kind, target, problem });

  if (kind === 'invalid') return fail('kind must be a syscall name');
  const common = commonProblem(value);
  if (common !== undefined) return fail(common);
  if (!isSyscallKind(kind)) return { ok: true, request: value as unknown as SyscallRequest };

  const allowed = ALLOWED_KEYS.get(kind) ?? COMMON_KEY_SET;
  const unknownKey = Object.keys(value).find((key) => !allowed.has(key));
  if (unknownKey !== undefined) {
    const hint = unknownKey === 'agent' ? " (the acting agent is the harness's to set)" : '';
    return fail(`unknown field for ${kind}${hint}`);
  }
  const json: JsonCheck = (data) => {
    try {
      reader.canonicalHash(data);
      return true;
    } catch {
      return false;
    }
  };
  const problem = KIND_CHECKS[kind](value, json);
  return problem === undefined
    ? { ok: true, request: value as unknown as SyscallRequest }
    : fail(problem);
}

/**
 * A harness's refusal (SyscallOptions.refusal), or null. Its rule must be a `kernel.*` id,
 * reserved (no policy rule has one), so that `why`, fork and replay read it as what no
 * policy changes, and it can never pass for a rule of the policy.
 */
export function harnessRefusal(
  refusal: SyscallOptions['refusal'],
): { readonly rule: string; readonly reason: string } | null {
  if (refusal === undefined) return null;
  if (!/^kernel\.[a-z0-9][a-z0-9.-]{0,100}$/.test(refusal.rule)) {
    throw new TypeError('a refusal given to syscall() has a kernel.* rule id');
  }
  return { rule: refusal.rule, reason: String(refusal.reason) };
}
