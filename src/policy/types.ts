// The typed policy AST (docs/policy.md). Produced only by parsePolicy(); never hand-built
// from untrusted input.

import type { ConfigIssue } from '../config/document.js';
import type { Label } from '../labels/labels.js';
import type { SandboxProfile } from '../sandbox/profile.js';
import type { SinkClass, SyscallKind, Verdict } from '../vocabulary.js';
import type { PolicyAnchors } from './anchors.js';

export interface RuleConditions {
  readonly syscalls?: readonly SyscallKind[];
  readonly targets?: readonly string[];
  /** Matches when the syscall's sink classes include any of these. */
  readonly sinks?: readonly SinkClass[];
  /** Matches only when the syscall's sink classes include none of these. */
  readonly sinks_none?: readonly SinkClass[];
  readonly labels_any?: readonly Label[];
  readonly labels_all?: readonly Label[];
  readonly labels_none?: readonly Label[];
  /** Matches when a control argument (target, URL, recipient, path, command) carries any of these. */
  readonly control_labels_any?: readonly Label[];
  /** Matches only when no control argument carries any of these. */
  readonly control_labels_none?: readonly Label[];
  /**
   * Matches when the agent's session context (the join of every page that entered it)
   * carries any of these: `poisoned-suspect` there means the session is compromised.
   */
  readonly context_labels_any?: readonly Label[];
  /** Matches only when the session context carries none of these. */
  readonly context_labels_none?: readonly Label[];
  readonly capability?: 'present' | 'missing';
  // Argument values by role (policy/values.ts): an allow rule matches when every value of
  // the role matches one pattern; a deny or ask rule when any does.
  /** Paths the call touches: absolute globs, `${workspace}/**` for below a workspace root. */
  readonly paths?: readonly string[];
  /** Hosts of the URLs in control arguments (`example.com`, `*.example.com`). */
  readonly hosts?: readonly string[];
  /** E-mail addresses in control arguments (`*@example.com`). */
  readonly recipients?: readonly string[];
  /** Each `*_outside` matches a value that matches none of its patterns. */
  readonly paths_outside?: readonly string[];
  readonly hosts_outside?: readonly string[];
  readonly recipients_outside?: readonly string[];
  /** Amounts (`amount`, `price`, `total` arguments), inclusive bounds. */
  readonly amount?: { readonly min?: number; readonly max?: number };
  /** Named arguments' values (`mode = ["soft", "mixed"]`), `*` any run. */
  readonly arguments?: Readonly<Record<string, readonly string[]>>;
}

export interface PolicyRule {
  readonly id: string;
  readonly effect: Verdict;
  readonly reason: string;
  readonly when: RuleConditions;
}

export interface SourceLabelRule {
  readonly pattern: string;
  readonly labels: readonly Label[];
}

/** Fields of a tool's answers that hold what the server computes, not text anyone wrote. */
export interface StructureRule {
  readonly pattern: string;
  readonly fields: readonly string[];
}

export interface Policy {
  readonly version: 1;
  readonly agent: { readonly id: string };
  /** Labels attached to content by where it came from (all matching patterns join). */
  readonly sources: readonly SourceLabelRule[];
  /**
   * `[labels.structure]`: per target pattern, the fields of its answers whose values are
   * structure (ids, hashes the server computes): reusing them is not being steered.
   */
  readonly structure?: readonly StructureRule[];
  /** Target patterns that put tool-like syscalls into sink classes. */
  readonly sinks: Readonly<Partial<Record<SinkClass, readonly string[]>>>;
  /** Capability patterns `<kind>:<target>` the policy grants. */
  readonly grants: readonly string[];
  /**
   * `[discovery] hide_always_denied` (default true): tools the policy denies in every
   * state are left out of tools/list, and the trace records that they were hidden.
   */
  readonly hideAlwaysDenied: boolean;
  /** `[telemetry]`: export syscalls as OpenTelemetry spans (docs/telemetry.md). */
  readonly telemetry?: PolicyTelemetry;
  /** Ordered; first match wins; the last is a catch-all deny. */
  readonly rules: readonly PolicyRule[];
  /** `[anchors]`: where each seal is also kept (files, git repositories). */
  readonly anchors?: PolicyAnchors;
  /** `[sandbox.<server-id>]`: how each named server's process is confined (docs/sandbox.md). */
  readonly sandbox?: Readonly<Record<string, SandboxProfile>>;
}

/** `[telemetry]` as written: header values may still name `${VAR}`s of the environment. */
export interface PolicyTelemetry {
  /** Default true: a `[telemetry]` table turns export on unless it says `enabled = false`. */
  readonly enabled: boolean;
  readonly endpoint?: string;
  /** `http/protobuf` (OTLP's default) or `http/json`. */
  readonly protocol?: 'http/protobuf' | 'http/json';
  readonly serviceName?: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type PolicyIssue = ConfigIssue;

export type PolicyParseResult =
  | { readonly ok: true; readonly policy: Policy }
  | { readonly ok: false; readonly issues: readonly PolicyIssue[] };
