// Local, operational errors of AgentK. A policy denial is a Decision value and a failed
// verification is a result value; neither is an exception. Misuse of an API throws
// TypeError/RangeError; faults the caller can act on throw AgentkError with a stable code.

export type AgentkErrorCode =
  | 'USAGE'
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'FILE_TOO_LARGE'
  | 'NOT_UTF8'
  | 'POLICY_INVALID'
  | 'MANIFEST_INVALID'
  | 'SCENARIO_INVALID'
  | 'CLIENT_CONFIG_INVALID'
  | 'FILE_CHANGED'
  | 'KEY_MALFORMED'
  | 'KEY_UNREADABLE'
  | 'KEY_EXISTS'
  | 'KEY_UNSAFE'
  | 'TRACE_EXISTS'
  | 'LOG_TAMPERED'
  | 'TRACE_IO'
  | 'PINS_IO'
  | 'STATE_IO'
  | 'RECORDER_CLOSED'
  | 'SECRET_UNAVAILABLE'
  | 'HANDLE_INVALID'
  | 'SANDBOX_UNAVAILABLE';

export class AgentkError extends Error {
  override readonly name = 'AgentkError';
  readonly code: AgentkErrorCode;
  /** One line per problem, for errors that collect several (a policy with many issues). */
  readonly problems: readonly string[];

  constructor(code: AgentkErrorCode, message: string, problems: readonly string[] = []) {
    super(message);
    this.code = code;
    this.problems = problems;
  }
}

export function isAgentkError(value: unknown): value is AgentkError {
  return value instanceof AgentkError;
}
