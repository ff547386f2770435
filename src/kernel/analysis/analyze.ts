// The analysis stage: what one well-formed syscall is, kind by kind. Labels come from the
// caller (restrictions only), the references it names, its values (Labeller), its sink
// classes (the policy), and what the catalogue stage found of its descriptor's pins.
// Reads kernel state through AnalysisState; writes none, does no I/O.

import { sha256Hex } from '../../crypto/index.js';
import {
  type LabelMask,
  labelsOf,
  maskOf,
  POISONED,
  PRIVATE,
  restrictionsOnly,
  SECRET,
  TRUSTED,
  UNTRUSTED,
} from '../../labels/labels.js';
import { descriptorSinks, heuristicSinks, sourceHeuristics } from '../../policy/sinks.js';
import {
  isSyscallKind,
  SINK_DESTRUCTIVE,
  SINK_EGRESS,
  SINK_EXEC,
  SINK_WRITE,
} from '../../vocabulary.js';
import type { ContentReader } from '../content.js';
import { argRef, loggable } from '../loggable.js';
import type { ParsedRequest } from '../request.js';
import type {
  AgentSpawnRequest,
  ContextReadRequest,
  DescribeRequest,
  FilePatchRequest,
  HumanApproveRequest,
  InvokeRequest,
  SyscallRequest,
} from '../types.js';
import {
  Analysis,
  type AnalysisState,
  type CatalogueVerdict,
  type SessionView,
} from './analysis.js';
import { isControlArgument, namesRemoteHost, nestedControlValues } from './arguments.js';
import { Labeller } from './labeller.js';
import { patchStats, patchWithinTarget } from './patch.js';
import { protectedHit, ValueReader } from './values.js';

/** One syscall under analysis: what each kind's analysis works with. */
interface Call<R extends SyscallRequest = SyscallRequest> {
  readonly request: R;
  readonly session: SessionView;
  readonly state: AnalysisState;
  readonly a: Analysis;
  readonly labeller: Labeller;
  readonly catalogue: CatalogueVerdict | undefined;
}

/**
 * The refusal of a request no analysis may look at, or null: a malformed request, an
 * unknown syscall or agent, or an answer to an ask that does not come from the approver.
 */
export function admit(
  parsed: ParsedRequest,
  session: SessionView | undefined,
  agent: string,
  fromApprover: boolean,
): Analysis | null {
  if (!parsed.ok) {
    return Analysis.refused('kernel.invalid-request', `invalid request: ${parsed.problem}`);
  }
  const { request } = parsed;
  if (!isSyscallKind(request.kind)) {
    return Analysis.refused(
      'kernel.unknown-syscall',
      `unknown syscall ${JSON.stringify(loggable(request.kind, 64))}: denied by default`,
    );
  }
  if (!session) {
    return Analysis.refused(
      'kernel.unknown-agent',
      `agent ${JSON.stringify(loggable(agent, 128))} was never spawned in this run`,
    );
  }
  if (request.kind === 'human.approve' && request.approver !== undefined && !fromApprover) {
    return Analysis.refused(
      'kernel.approval-not-from-approver',
      'an answer to an ask comes from the approver (Kernel.approve), never from a syscall the agent can make',
    );
  }
  return null;
}

/** Derive labels, sinks and evidence for a well-formed request from a known session. */
export function analyze(
  request: SyscallRequest,
  session: SessionView,
  state: AnalysisState,
  reader: ContentReader,
  catalogue?: CatalogueVerdict,
): Analysis {
  const a = new Analysis(
    restrictionsOnly(maskOf(request.labels ?? [])),
    state.policy.classifySinks(request.kind, request.target, state.annotatedSinks(request.target)),
  );
  a.context = session.context;
  const labeller = new Labeller(a, state, reader);
  for (const ref of request.inputs ?? []) labeller.input(ref);
  const call = { request, session, state, a, labeller, catalogue };
  switch (request.kind) {
    case 'context.read':
      contextRead({ ...call, request });
      break;
    case 'tool.describe':
    case 'resource.describe':
    case 'prompt.describe':
      describe({ ...call, request });
      break;
    case 'tool.response':
    case 'resource.response':
    case 'prompt.response':
      // What a tool returns is untrusted unless the policy vouches for its source (a
      // listing of the user's own workspace); a reader of the user's data returns private data.
      labeller.content(
        request.target,
        request.content,
        (state.policy.sourceLabels(request.target) & TRUSTED ? 0 : UNTRUSTED) |
          sourceHeuristics(request.target),
      );
      if (request.isError) a.detail.is_error = true;
      break;
    case 'model.call':
      a.raise(session.context);
      if (request.prompt !== undefined) labeller.flow('prompt', request.prompt, true, false);
      break;
    case 'memory.write':
      // What is written derives from the context (content); the key is the agent's choice.
      a.raiseArg(session.context, false);
      labeller.flow('content', request.content, true, false);
      a.contentHash = reader.hash(request.content);
      break;
    case 'tool.invoke':
    case 'resource.read':
    case 'prompt.get':
      invoke({ ...call, request });
      break;
    case 'network.send': {
      const reader = new ValueReader(state.workspace);
      reader.argument('url', request.target, true);
      a.values = reader.result();
      labeller.flow('target', request.target, false);
      if (request.body !== undefined) labeller.flow('body', request.body, true, false);
      if (request.method !== undefined) a.detail.method = request.method.toUpperCase();
      break;
    }
    case 'file.patch':
      filePatch({ ...call, request });
      break;
    case 'secret.open':
      a.raise(SECRET | PRIVATE | state.policy.sourceLabels(request.target));
      a.detail.scope = (request.scope ?? ['tool.invoke:*']).map((entry) => loggable(entry, 512));
      if (!state.hasSecret(request.target)) {
        a.refuse('kernel.secret-unavailable', 'no configured secret store holds this target');
      }
      break;
    case 'human.approve':
      humanApprove({ ...call, request });
      break;
    case 'agent.spawn':
      agentSpawn({ ...call, request });
      break;
  }
  return a;
}

/** The catalogue's finding: recorded, and a refusal unless an earlier one stands. */
function applyCatalogue({ a, catalogue }: Call): void {
  if (catalogue?.refusal) a.refuseUnlessRefused(catalogue.refusal.rule, catalogue.refusal.reason);
  if (catalogue?.pin !== undefined) a.detail.pin = catalogue.pin;
}

function contextRead(call: Call<ContextReadRequest>): void {
  const { request, a, state, labeller } = call;
  if (request.target.startsWith('memory:')) {
    const memory = state.memory(request.target.slice('memory:'.length));
    if (memory) {
      a.raise(memory.labels);
      a.inputs.push({ ref: loggable(request.target, 300), sha256: memory.sha256 });
      if (request.content !== undefined && labeller.hash(request.content) !== memory.sha256) {
        // Changed outside the kernel since it was written: treat as tampered.
        a.raise(UNTRUSTED | POISONED);
        a.detail.memory_changed = true;
      }
    }
  }
  labeller.content(request.target, request.content, 0);
}

function describe(call: Call<DescribeRequest>): void {
  const { request, a, state, labeller, catalogue } = call;
  labeller.content(request.target, request.descriptor, UNTRUSTED, true);
  applyCatalogue(call);
  // Unapproved descriptors are suspect: their text, and what it names, taints.
  const pin = catalogue?.pin;
  if (pin !== undefined && pin !== 'pinned' && pin !== 'first-use') a.raise(POISONED | UNTRUSTED);
  if (request.kind !== 'tool.describe') return;
  // Annotations, else (for a tool its name does not classify either) its input schema, and
  // the side effects its description declares.
  a.annotated = descriptorSinks(request.target, request.descriptor);
  // Policy-filtered discovery: a tool no state of the policy would let the agent call is
  // not shown to the model at all.
  const policy = state.policy;
  if (
    policy.policy.hideAlwaysDenied &&
    policy.alwaysDenies(
      'tool.invoke',
      request.target,
      policy.classifySinks('tool.invoke', request.target, a.annotated),
      state.granted(`tool.invoke:${request.target}`),
    )
  ) {
    a.refuseUnlessRefused(
      'kernel.hidden-always-denied',
      'the policy denies every call to this tool, in every state: hidden from discovery',
    );
  }
}

/**
 * A call: arguments told apart by role (control arguments steer, content arguments only
 * carry), names traced like values, and egress found from remote URLs in control values.
 */
function invoke(call: Call<InvokeRequest>): void {
  const { request, a, state, labeller } = call;
  applyCatalogue(call);
  // A resource's URI is a control value: where it points, and what it carries out.
  if (request.kind === 'resource.read') labeller.flow('target', request.target, false);
  // Everything an exec sink takes is code; otherwise arguments are told apart by role.
  const exec = (a.sinks & SINK_EXEC) !== 0;
  // Whatever its name says, a call whose control arguments name a remote host reaches the
  // open world: its arguments leave the machine (a read tool fetching ?d=<private> is
  // egress too). The policy's own [sinks] patterns have the last word.
  const byPolicy = state.policy.patternSinks(request.target) !== null;
  // A tool whose name or policy pattern says what it does, short of deleting, paying or
  // running code (write_file, edit_file: their annotations say destructive, as overwriting
  // is), may act on a value the agent had before an untrusted page echoed it; an exec, a
  // delete, a payment, or a tool only its annotations or schema classify may not.
  const named = heuristicSinks(request.target) | (state.policy.patternSinks(request.target) ?? 0);
  a.strictLineage = exec || named === 0 || (named & SINK_DESTRUCTIVE) !== 0;
  const remote = (text: string | null) => {
    if (byPolicy || (a.sinks & SINK_EGRESS) !== 0) return;
    if (text === null || namesRemoteHost(text)) a.sinks |= SINK_EGRESS;
  };
  const values = new ValueReader(state.workspace);
  if (request.kind === 'resource.read')
    values.urls(request.target.slice(request.target.indexOf('/') + 1));
  values.named(request.args ?? {}, state.argumentNames(request.target));
  for (const [key, value] of Object.entries(request.args ?? {})) {
    if (value === undefined) continue; // absent, as in the JSON that is sent
    // The name is the agent's text too: traced like a value, logged only as a name.
    const name = argRef(key);
    labeller.flow(`arg-name:${name}`, key, false, false);
    const text = labeller.text(value);
    const control = exec || isControlArgument(key, text);
    labeller.flow(`arg:${name}`, value, true, control);
    // Every argument's values by role (a content argument's only under role-named keys).
    values.argument(key, value, control, exec);
    if (control) remote(text);
    if (control || typeof value !== 'object' || value === null) continue;
    const nested = nestedControlValues(name, value);
    if (nested === null) {
      labeller.flow(`arg:${name}`, value, false, true);
      remote(text);
      continue;
    }
    for (const [path, member] of nested) {
      labeller.flow(`arg:${loggable(path, 256)}`, member, false, true);
      remote(labeller.text(member));
    }
  }
  a.values = values.result();
  refuseProtected(a, state);
}

/** A call that reaches AgentK's own state, policy or keys is refused, whatever the policy. */
function refuseProtected(a: Analysis, state: AnalysisState): void {
  if (state.protectedPaths.length === 0 || a.values === null) return;
  const changes = (a.sinks & (SINK_WRITE | SINK_DESTRUCTIVE | SINK_EXEC)) !== 0;
  const hit = protectedHit(a.values.paths, state.protectedPaths, changes);
  // A path it could not read (too many, too long, undecodable) might be one: refused too.
  // An exec's paths are always partly unknown; the files its words name are checked.
  const unread = a.values.unknown.includes('paths') && (a.sinks & SINK_EXEC) === 0;
  if (hit !== null || unread) {
    a.refuseUnlessRefused(
      'kernel.protected-path',
      hit !== null
        ? `the call reaches AgentK's own state, policy or keys (${loggable(hit, 512)}): no agent call may read or change them`
        : "the call names paths AgentK cannot read in full (too many, too long or undecodable), so it cannot rule out AgentK's own state, policy or keys",
    );
  }
}

function filePatch(call: Call<FilePatchRequest>): void {
  const { request, a, labeller, state } = call;
  const stats = patchStats(request.diff);
  const values = new ValueReader(state.workspace);
  values.path(request.target);
  a.values = values.result();
  refuseProtected(a, state);
  labeller.flow('target', request.target, false);
  labeller.flow('diff', request.diff, true, false);
  a.detail.patch = {
    sha256: sha256Hex(request.diff),
    files: stats.files,
    hunks: stats.hunks,
    additions: stats.additions,
    deletions: stats.deletions,
    created: stats.created,
    deleted: stats.deleted,
    paths: stats.paths.slice(0, 64).map((path) => loggable(path, 512)),
  };
  if (stats.deleted > 0) a.sinks |= SINK_DESTRUCTIVE;
  if (stats.tooManyPaths) {
    a.refuse('kernel.patch-outside-target', 'the diff touches too many paths to check');
  } else if (!patchWithinTarget(stats, request.target)) {
    a.refuse('kernel.patch-outside-target', 'the diff touches paths outside its target');
  }
}

function humanApprove(call: Call<HumanApproveRequest>): void {
  const { request, a, state, labeller } = call;
  if (request.approver === undefined) {
    // A question for a person from `target`: untrusted content the policy must clear.
    labeller.content(request.target, request.question, UNTRUSTED);
    a.detail.question = true;
    return;
  }
  const pending = state.pendingAsk(request.target);
  a.detail.approval = {
    request_hash: request.target,
    approved: request.approved,
    approver: loggable(request.approver, 256),
    ...(pending
      ? {
          request: {
            kind: pending.kind,
            target: loggable(pending.target, 512),
            step: pending.step,
          },
        }
      : {}),
    ...(request.note !== undefined ? { note_sha256: sha256Hex(request.note) } : {}),
    // A session grant: what it covers (the kind, target, agent and control values of the
    // request asked about, approvals.ts grantScope), for SESSION_GRANT_TTL_MS at most.
    ...(request.scope === 'session' && pending
      ? { scope: 'session', grant_scope: pending.scope }
      : {}),
    // The person checked what looked like an injection: the session is no longer compromised.
    ...(request.clear_compromised === true ? { clear_compromised: true } : {}),
  };
  if (!pending) a.refuse('kernel.no-pending-request', 'no pending ask has this request hash');
}

function agentSpawn(call: Call<AgentSpawnRequest>): void {
  const { request, a, state, session, labeller } = call;
  a.raise(session.context);
  if (state.hasAgent(request.target)) {
    a.refuse('kernel.agent-exists', 'an agent with this id already exists');
  }
  a.detail.spawn = {
    child: request.target,
    parent: session.id,
    inherited_labels: labelsOf(session.context as LabelMask),
  };
  if (request.task !== undefined) labeller.flow('task', request.task, true, false);
}
