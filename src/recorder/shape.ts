// The shape of a flight-log line (docs/flight-log.md): exactly the fields the writer
// produces, with the right types, so that a verified log can be read by review tools
// without surprises and no unsigned, unexpected field can ride along.
// Input distrusted: every parsed value.

import { isHex64 } from '../crypto/index.js';
import { isLabel } from '../labels/labels.js';
import { isSinkClass } from '../vocabulary.js';

const VERDICTS: readonly string[] = ['allow', 'deny', 'ask'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The keys a record must have (all of `required`, nothing beyond `optional`). */
export function keysProblem(
  what: string,
  record: Record<string, unknown>,
  required: readonly string[],
  optional: readonly string[] = [],
): string | undefined {
  for (const key of required) if (!(key in record)) return `${what} is missing ${key}`;
  for (const key of Object.keys(record)) {
    if (!required.includes(key) && !optional.includes(key))
      return `${what} has an unexpected field`;
  }
  return undefined;
}

const SYSCALL_EVENT_KEYS = [
  'v',
  'type',
  'step',
  'ts',
  'run_id',
  'agent_id',
  'syscall',
  'decision',
  'previous_hash',
  'event_hash',
];
const SEAL_EVENT_KEYS = [
  'v',
  'type',
  'step',
  'ts',
  'run_id',
  'agent_id',
  'seal',
  'previous_hash',
  'event_hash',
];
const SANDBOX_EVENT_KEYS = [...SEAL_EVENT_KEYS.filter((key) => key !== 'seal'), 'sandbox'];
/** A sandbox record's members (docs/flight-log.md), required then optional, per event. */
const SANDBOX_KEYS: Readonly<Record<string, readonly [readonly string[], readonly string[]]>> = {
  start: [
    ['event', 'server_id', 'state', 'profile', 'enforced', 'not_enforced', 'host'],
    ['reason'],
  ],
  limit: [
    ['event', 'server_id', 'limit', 'value', 'signal', 'exit_code', 'evidence', 'message'],
    [],
  ],
};
const SYSCALL_KEYS = [
  'kind',
  'target',
  'intent',
  'labels',
  'control_labels',
  'inputs',
  'capability',
  'sinks',
];
const DECISION_KEYS = [
  'verdict',
  'effect',
  'rule',
  'reason',
  'missing_capability',
  'receipt',
  'secret_handle',
  'request_hash',
];
const SEAL_KEYS = [
  'run_id',
  'ts',
  'agent_id',
  'event_count',
  'head_hash',
  'alg',
  'key_source',
  'public_key',
  'signature',
];

function isStringList(value: unknown, allowed?: (item: string) => boolean): boolean {
  return (
    Array.isArray(value) &&
    value.every((item) => typeof item === 'string' && (!allowed || allowed(item)))
  );
}

/**
 * Structural check of a parsed event: exactly the fields the writer produces, with the
 * right types, so that a verified log can be read by review tools without surprises and
 * no unsigned, unexpected field can ride along. Returns a reason, or undefined.
 */
export function eventShapeProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'line is not a JSON object';
  if (value.v !== 1 && value.v !== 2)
    return `unsupported event format version ${JSON.stringify(value.v)}`;
  if (value.type === 'checkpoint') return checkpointShapeProblem(value);
  if (value.type !== 'syscall' && value.type !== 'seal' && value.type !== 'sandbox')
    return 'unknown event type';
  if (value.type === 'sandbox' && value.v !== 2) return 'a sandbox event in a format 1 log';
  const top = keysProblem(
    'event',
    value,
    value.type === 'seal'
      ? SEAL_EVENT_KEYS
      : value.type === 'sandbox'
        ? SANDBOX_EVENT_KEYS
        : SYSCALL_EVENT_KEYS,
  );
  if (top) return top;
  if (!Number.isSafeInteger(value.step) || (value.step as number) < 1)
    return 'step is not a positive integer';
  if (typeof value.ts !== 'string' || Number.isNaN(Date.parse(value.ts)))
    return 'ts is not a timestamp';
  if (typeof value.run_id !== 'string') return 'run_id is not a string';
  if (typeof value.agent_id !== 'string') return 'agent_id is not a string';
  if (!isHex64(value.previous_hash)) return 'previous_hash is not 64 hex digits';
  if (!isHex64(value.event_hash)) return 'event_hash is not 64 hex digits';
  if (value.type === 'seal') return sealShapeProblem(value.seal);
  if (value.type === 'sandbox') return sandboxShapeProblem(value.sandbox);
  return syscallShapeProblem(value.syscall) ?? decisionShapeProblem(value.decision);
}

function sealShapeProblem(seal: unknown): string | undefined {
  if (!isObject(seal)) return 'seal is not an object';
  const problem = keysProblem('seal', seal, SEAL_KEYS);
  if (problem) return problem;
  if (!Number.isSafeInteger(seal.event_count) || !isHex64(seal.head_hash)) {
    return 'seal event_count or head_hash is malformed';
  }
  return undefined;
}

function sandboxShapeProblem(sandbox: unknown): string | undefined {
  if (!isObject(sandbox)) return 'sandbox is not an object';
  const keys = SANDBOX_KEYS[sandbox.event as string];
  if (keys === undefined || !Object.hasOwn(SANDBOX_KEYS, sandbox.event as string))
    return 'sandbox event is not start or limit';
  const problem = keysProblem('sandbox', sandbox, keys[0], keys[1]);
  if (problem) return problem;
  if (typeof sandbox.server_id !== 'string') return 'sandbox server_id is not a string';
  if (sandbox.event === 'start') {
    if (sandbox.state !== 'sandboxed' && sandbox.state !== 'unsandboxed')
      return 'sandbox state is not sandboxed or unsandboxed';
    if (!isObject(sandbox.profile) || !isObject(sandbox.host))
      return 'sandbox profile or host is not an object';
    if (!isStringList(sandbox.enforced) || !isStringList(sandbox.not_enforced))
      return 'sandbox enforced or not_enforced is not a list of strings';
    if (sandbox.reason !== undefined && typeof sandbox.reason !== 'string')
      return 'sandbox reason is not a string';
    return undefined;
  }
  if (typeof sandbox.limit !== 'string' || typeof sandbox.message !== 'string')
    return 'sandbox limit or message is not a string';
  if (sandbox.value !== null && !Number.isSafeInteger(sandbox.value))
    return 'sandbox value is not an integer';
  if (sandbox.signal !== null && typeof sandbox.signal !== 'string')
    return 'sandbox signal is not a string';
  if (sandbox.exit_code !== null && !Number.isSafeInteger(sandbox.exit_code))
    return 'sandbox exit_code is not an integer';
  if (!isStringList(sandbox.evidence)) return 'sandbox evidence is not a list of strings';
  return undefined;
}

function syscallShapeProblem(syscall: unknown): string | undefined {
  if (!isObject(syscall)) return 'syscall is not an object';
  const syscallProblem = keysProblem('syscall', syscall, SYSCALL_KEYS, ['detail']);
  if (syscallProblem) return syscallProblem;
  for (const key of ['kind', 'target', 'intent', 'capability'] as const) {
    if (typeof syscall[key] !== 'string') return `syscall ${key} is not a string`;
  }
  if (!isStringList(syscall.labels, isLabel) || !isStringList(syscall.control_labels, isLabel)) {
    return 'syscall labels are not known labels';
  }
  if (!isStringList(syscall.sinks, isSinkClass)) return 'syscall sinks are not sink classes';
  if (syscall.detail !== undefined && !isObject(syscall.detail))
    return 'syscall detail is not an object';
  if (!Array.isArray(syscall.inputs)) return 'syscall inputs is not a list';
  for (const input of syscall.inputs) {
    if (!isObject(input) || keysProblem('input', input, ['ref', 'sha256'], ['labels'])) {
      return 'a syscall input is malformed';
    }
    if (typeof input.ref !== 'string' || !isHex64(input.sha256))
      return 'a syscall input is malformed';
    if (input.labels !== undefined && !isStringList(input.labels, isLabel))
      return 'a syscall input has unknown labels';
  }
  return undefined;
}

function decisionShapeProblem(decision: unknown): string | undefined {
  if (!isObject(decision)) return 'decision is not an object';
  const decisionProblem = keysProblem('decision', decision, DECISION_KEYS, ['shadow']);
  if (decisionProblem) return decisionProblem;
  if (
    !VERDICTS.includes(decision.verdict as string) ||
    !VERDICTS.includes(decision.effect as string)
  ) {
    return 'decision has an unknown verdict or effect';
  }
  if (typeof decision.rule !== 'string' || typeof decision.reason !== 'string') {
    return 'decision rule or reason is not a string';
  }
  if (decision.missing_capability !== null && typeof decision.missing_capability !== 'string') {
    return 'decision missing_capability is malformed';
  }
  if (decision.receipt !== null && !isObject(decision.receipt))
    return 'decision receipt is malformed';
  if (decision.secret_handle !== null && !isObject(decision.secret_handle)) {
    return 'decision secret_handle is malformed';
  }
  if (!isHex64(decision.request_hash)) return 'decision request_hash is not 64 hex digits';
  const shadow = decision.shadow;
  if (
    shadow !== undefined &&
    (!isObject(shadow) ||
      keysProblem('shadow', shadow, ['effect', 'rule']) !== undefined ||
      !VERDICTS.includes(shadow.effect as string) ||
      typeof shadow.rule !== 'string')
  ) {
    return 'decision shadow is malformed';
  }
  return undefined;
}

const CHECKPOINT_LINE_KEYS = ['checkpoint', 'type', 'v'];
const CHECKPOINT_KEYS = [
  'alg',
  'event_count',
  'head_hash',
  'key_source',
  'public_key',
  'run_id',
  'signature',
  'ts',
];

/** What is wrong with the shape of a parsed checkpoint line, or undefined. */
function checkpointShapeProblem(value: Record<string, unknown>): string | undefined {
  const line = keysProblem('checkpoint line', value, CHECKPOINT_LINE_KEYS);
  if (line) return line;
  const checkpoint = value.checkpoint;
  if (!isObject(checkpoint)) return 'checkpoint is not an object';
  const problem = keysProblem('checkpoint', checkpoint, CHECKPOINT_KEYS);
  if (problem) return problem;
  if (!Number.isSafeInteger(checkpoint.event_count) || !isHex64(checkpoint.head_hash)) {
    return 'checkpoint event_count or head_hash is malformed';
  }
  for (const key of ['alg', 'key_source', 'public_key', 'run_id', 'signature', 'ts']) {
    if (typeof checkpoint[key] !== 'string') return `checkpoint ${key} is not a string`;
  }
  return undefined;
}
