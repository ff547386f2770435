// What the kernel derives about one syscall before the policy looks at it: its labels
// (and those of its control arguments alone), its sink classes, hash evidence of its
// inputs, which earlier pages its values came from, the secret handles it uses, and any
// kernel precondition that failed. The analysis stage fills one Analysis; nothing in it
// writes kernel state or does I/O. What it may read of that state is AnalysisState.

import { joinMasks, type Label, type LabelMask } from '../../labels/labels.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { ArgumentValues } from '../../policy/values.js';
import type { Lookup } from '../../provenance/values.js';
import type { InputEvidence } from '../../recorder/event.js';
import type { SinkMask, SyscallKind } from '../../vocabulary.js';
import type { ContextPage, ProvenanceHit } from '../types.js';
import type { Workspace } from './values.js';

/** A value whose untrusted echo did not steer: which argument, what, first seen where. */
export interface LineageRecord {
  readonly arg: string;
  readonly kind: string;
  readonly sha256: string;
  /** `argument` (a clean argument of an allowed syscall), `root`, or the trusted page's id. */
  readonly first_seen: string;
  readonly first_seen_step: number;
}

/** A kernel precondition that failed: the syscall is denied before the policy is asked. */
export interface Refusal {
  readonly rule: string;
  readonly reason: string;
}

/** What the catalogue stage found of the descriptor a syscall describes or uses. */
export interface CatalogueVerdict {
  /** The pin state, recorded in the event as `detail.pin`. */
  readonly pin?: string;
  /** Pins unusable, or a descriptor used before it was approved. */
  readonly refusal?: Refusal;
}

export interface StoredPage extends ContextPage {
  readonly mask: LabelMask;
}

export interface MemoryEntry {
  readonly labels: LabelMask;
  readonly sha256: string;
  readonly step: number;
}

/** An `ask` waiting for a person's answer, by request hash. */
export interface PendingAsk {
  readonly kind: SyscallKind;
  readonly target: string;
  readonly agent: string;
  readonly step: number;
  /** What a session grant for it covers (approvals.ts grantScope). */
  readonly scope: string;
}

/** The session a syscall acts in: its agent and the join of what entered its context. */
export interface SessionView {
  readonly id: string;
  readonly context: LabelMask;
}

/** What the analysis may read of the kernel's state (read-only; the stages own it). */
export interface AnalysisState {
  readonly policy: CompiledPolicy;
  /** Context: pages, memories, agents, and the value index over the pages. */
  page(id: string): StoredPage | undefined;
  memory(key: string): MemoryEntry | undefined;
  hasAgent(id: string): boolean;
  /** `command`: the text is a command an exec sink runs (short verbatim copies count). */
  lookupValues(text: string, strict?: boolean, command?: boolean): Lookup;
  /** Labels of pages the value index could not hold (joined into every lookup). */
  readonly unindexedLabels: LabelMask;
  /** Secrets: the labels of an issued handle, and whether any store holds a target. */
  handleLabels(id: string): readonly Label[] | undefined;
  hasSecret(target: string): boolean;
  /** Decision: asks waiting for a person, and capabilities granted. */
  pendingAsk(requestHash: string): PendingAsk | undefined;
  granted(capability: string): boolean;
  /** Catalogue: sink classes from a described tool's MCP annotations. */
  annotatedSinks(target: string): SinkMask | undefined;
  /** Where relative paths and `${workspace}` point. */
  readonly workspace: Workspace;
  /** AgentK's own state, policy and key files: no call may touch them. */
  readonly protectedPaths: readonly string[];
  /** Arguments the rules that may apply to `target` name (read and recorded by value). */
  argumentNames(target: string): readonly string[];
}

export class Analysis {
  labels: LabelMask;
  /** Labels of the control arguments alone (targets, URLs, recipients, paths, commands). */
  control: LabelMask;
  sinks: SinkMask;
  readonly inputs: InputEvidence[] = [];
  readonly detail: Record<string, unknown> = {};
  readonly provenance: ProvenanceHit[] = [];
  /** Untrusted echoes that lineage kept from steering (recorded as `detail.lineage`). */
  readonly lineage: LineageRecord[] = [];
  /**
   * Whether an untrusted echo of a value with clean lineage still steers this syscall (an
   * exec, a delete, a send); unset: it does.
   */
  strictLineage: boolean | undefined = undefined;
  /** Exact values of clean control arguments: where lineage starts if this is allowed. */
  readonly cleanValues: string[] = [];
  /** `<argument>=<sha256>` of each control argument: what a session grant is bound to. */
  readonly controlRefs: string[] = [];
  readonly handles: string[] = [];
  /** The session's context label when the syscall is made. */
  context: LabelMask = 0;
  /** Argument values by role (for rules that see arguments); null: the kind has none. */
  values: ArgumentValues | null = null;
  /** For tool.describe: the sink classes the tool's MCP annotations declare. */
  annotated: SinkMask | null = null;
  contentHash: string | null = null;
  contentText: string | null = null;
  refusal: Refusal | null = null;

  constructor(labels: LabelMask = 0, sinks: SinkMask = 0) {
    this.labels = labels;
    this.control = labels;
    this.sinks = sinks;
  }

  /** An analysis that stops at a failed precondition. */
  static refused(rule: string, reason: string): Analysis {
    const analysis = new Analysis();
    analysis.refusal = { rule, reason };
    return analysis;
  }

  /** Labels that reach the whole syscall, control arguments included (conservative). */
  raise(mask: LabelMask): void {
    this.labels = joinMasks(this.labels, mask);
    this.control = joinMasks(this.control, mask);
  }

  /** Labels of one argument: control arguments steer; content arguments only carry. */
  raiseArg(mask: LabelMask, control: boolean): void {
    this.labels = joinMasks(this.labels, mask);
    if (control) this.control = joinMasks(this.control, mask);
  }

  /** Refuse, in place of any earlier refusal (a later, more specific finding). */
  refuse(rule: string, reason: string): void {
    this.refusal = { rule, reason };
  }

  /** Refuse unless already refused (the first finding stands). */
  refuseUnlessRefused(rule: string, reason: string): void {
    this.refusal ??= { rule, reason };
  }
}
