// AgentK's public library API (docs/library.md). Named exports only; everything else is
// internal and may change. docs/api/agentk-kernel.api.md is the API report of this file:
// test/architecture/api-report.test.ts fails when the surface changes and the report was
// not regenerated with it, so that every change of the API is a deliberate one.

export type { ConfigIssue } from './config/document.js';
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
export type {
  AnchorCheck,
  AnchorOutcome,
  AnchorRecord,
  AnchorTargets,
  HttpAnchor,
} from './evidence/anchors.js';
export {
  anchorSeal,
  anchorSealOverHttp,
  checkAnchors,
  checkAnchorsOverHttp,
} from './evidence/anchors.js';
export type { Environment } from './evidence/keys.js';
export { developmentSigner, loadSigner, signerFromFile } from './evidence/keys.js';
// In-process tools: agent frameworks' tools through the kernel.
export type { AiSdkTool } from './integrations/ai-sdk.js';
export { mediateAiSdkTools } from './integrations/ai-sdk.js';
export type {
  MediatedRemoteServer,
  MediatedStdioServer,
  SessionChoices,
} from './integrations/mcp-client.js';
export { MediatedTransport, mediatedTransport } from './integrations/mcp-client.js';
export type { OpenAiAgentsTool } from './integrations/openai-agents.js';
export { mediateOpenAiAgentsTools } from './integrations/openai-agents.js';
export type { MediatedTool, MediationOptions, Refusal } from './integrations/tools.js';
export { describeTool, isRefusal, mediatedCall, userMessage } from './integrations/tools.js';
// The kernel and its syscalls.
export type { CatalogueListings } from './kernel/catalogue/catalogue.js';
export type { CatalogueKind, PinFile, PinStore } from './kernel/catalogue/pins.js';
export type { CreateKernelOptions } from './kernel/create.js';
export { createKernel } from './kernel/create.js';
export { Kernel } from './kernel/kernel.js';
export type { KernelOptions } from './kernel/options.js';
export { newRunId } from './kernel/options.js';
export type {
  AgentSpawnRequest,
  Answered,
  ApprovalAnswer,
  ApprovalRequest,
  ApprovalScope,
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
  RequestBase,
  ResponseRequest,
  SecretOpenRequest,
  SyscallOptions,
  SyscallRequest,
  SyscallResult,
} from './kernel/types.js';
// Labels (the Context MMU lattice).
export type { Label, LabelMask } from './labels/labels.js';
export { joinLabels, LABELS } from './labels/labels.js';
// The MCP proxy session's end.
export type { ProxyExit, ProxyStats } from './mcp/proxy/types.js';
// Policy.
export type { PolicyAnchors } from './policy/anchors.js';
export type { DecisionInput, RuleMatch } from './policy/compile.js';
export { CompiledPolicy } from './policy/compile.js';
export { loadPolicyFile, parsePolicyText } from './policy/load.js';
export { parsePolicy } from './policy/parse.js';
export type {
  Policy,
  PolicyIssue,
  PolicyParseResult,
  PolicyRule,
  PolicyTelemetry,
  RuleConditions,
  SourceLabelRule,
  StructureRule,
} from './policy/types.js';
export type { ArgumentValues, ValueRole, ValueWorld } from './policy/values.js';
export { VALUE_ROLES } from './policy/values.js';
// Flight recorder and verification.
export type {
  CheckpointLine,
  CheckpointRecord,
  DecisionRecord,
  EventBase,
  EventFormatVersion,
  FlightEvent,
  InputEvidence,
  ReceiptRecord,
  SandboxEvent,
  SandboxRecord,
  SealEvent,
  SealRecord,
  SecretHandleRecord,
  SignedHead,
  SyscallEvent,
  SyscallRecord,
} from './recorder/event.js';
export type { EventObserver } from './recorder/recorder.js';
export type { Durability, LogSink } from './recorder/sink.js';
export { FileSink, MemorySink } from './recorder/sink.js';
export type {
  ChainFailure,
  ChainFailureCode,
  ChainOk,
  ChainResult,
  CheckpointVisitor,
  EventVisitor,
} from './recorder/verify.js';
export { verifyLogFile, verifyLogText } from './recorder/verify.js';
// Sandbox profiles (the policy's [sandbox.<server-id>] tables).
export type { NetworkEntry } from './sandbox/network.js';
export type {
  SandboxLimits,
  SandboxMode,
  SandboxProfile,
  WorkspaceAccess,
} from './sandbox/profile.js';
// Secrets.
export type { SecretStore } from './secrets/store.js';
export { StaticSecretStore } from './secrets/store.js';
// Vocabulary.
export type { SinkClass, SinkMask, SyscallKind, Verdict } from './vocabulary.js';
export { SINK_CLASSES, SYSCALL_KINDS } from './vocabulary.js';
