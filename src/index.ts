// AgentK's public library API. Named exports only; everything else is internal and may
// change. See README.md ("Library API") and examples/agent-loop.mjs for a whole agent loop.

export { canonicalize } from './crypto/canonical.js';
// Keys and evidence.
export type { KeySource, Signer } from './crypto/index.js';
export { fingerprintOf, generateSeedHex, signerFromSeedHex } from './crypto/index.js';
export {
  HANDLE_DOMAIN,
  RECEIPT_DOMAIN,
  SEAL_DOMAIN,
  verifyRecordSignature,
} from './crypto/signing.js';
export type { AgentkErrorCode } from './errors.js';
export { AgentkError, isAgentkError } from './errors.js';
export { developmentSigner, loadSigner, signerFromFile } from './evidence/keys.js';
// The kernel and its syscalls.
export type { CatalogueListings } from './kernel/catalogue/catalogue.js';
export type { CatalogueKind } from './kernel/catalogue/pins.js';
export { Kernel } from './kernel/kernel.js';
export type { KernelOptions } from './kernel/options.js';
export { newRunId } from './kernel/options.js';
export type {
  AgentSpawnRequest,
  Answered,
  ApprovalAnswer,
  ApprovalRequest,
  Approver,
  ContextPage,
  ContextReadRequest,
  DescribeRequest,
  FilePatchRequest,
  HumanApproveRequest,
  InputRef,
  InvokeRequest,
  MemoryWriteRequest,
  ModelCallRequest,
  NetworkSendRequest,
  ProvenanceHit,
  ResponseRequest,
  SecretOpenRequest,
  SyscallOptions,
  SyscallRequest,
  SyscallResult,
} from './kernel/types.js';
// Labels (the Context MMU lattice).
export type { Label } from './labels/labels.js';
export { joinLabels, LABELS } from './labels/labels.js';
// Policy.
export { CompiledPolicy } from './policy/compile.js';
export { loadPolicyFile, parsePolicyText } from './policy/load.js';
export { parsePolicy } from './policy/parse.js';
export type { Policy, PolicyIssue, PolicyRule, RuleConditions } from './policy/types.js';
// Flight recorder and verification.
export type {
  DecisionRecord,
  FlightEvent,
  ReceiptRecord,
  SealEvent,
  SecretHandleRecord,
  SyscallEvent,
  SyscallRecord,
} from './recorder/event.js';
export type { Durability, LogSink } from './recorder/sink.js';
export { FileSink, MemorySink } from './recorder/sink.js';
export type { ChainFailure, ChainFailureCode, ChainOk, ChainResult } from './recorder/verify.js';
export { verifyLogFile, verifyLogText } from './recorder/verify.js';
// Secrets.
export type { SecretStore } from './secrets/store.js';
export { StaticSecretStore } from './secrets/store.js';
// Vocabulary.
export type { SinkClass, SyscallKind, Verdict } from './vocabulary.js';
export { SINK_CLASSES, SYSCALL_KINDS } from './vocabulary.js';
