// What a client sees when AgentK says no, or asks: a denial a person (and the agent) can
// read and act on (syscall, target, rule, reason, step, request hash, which pages tainted
// it), as a tool result with isError for tools/call and as error -32003 otherwise; and the
// elicitation that puts an `ask` to the client's user.

import type { ContextPage, SyscallResult } from '../../kernel/types.js';
import { redactSecrets } from '../../provenance/detect.js';
import { errorLine, type JsonRpcId, RPC, resultLine } from '../jsonrpc.js';

/** The denial a person (and the agent) can read and act on. */
export function denialOf(result: SyscallResult): Record<string, unknown> {
  return {
    denied: true,
    syscall: result.kind,
    target: result.target,
    verdict: result.verdict,
    // The rule asks for a person; none could answer (or none did): approving is the way on.
    ...(result.event?.decision.effect === 'ask' && !result.allowed ? { needs_approval: true } : {}),
    rule: result.rule,
    reason: result.reason,
    step: result.step,
    request_hash: result.requestHash,
    ...(result.missingCapability ? { missing_capability: result.missingCapability } : {}),
    ...(result.provenance.length > 0
      ? {
          tainted_by: result.provenance.map((hit) => ({
            argument: hit.arg,
            page: hit.page,
            page_sha256: hit.pageSha256,
          })),
        }
      : {}),
  };
}

export function denialText(result: SyscallResult): string {
  const what = result.kind === 'tool.response' ? 'the result of' : '';
  return `AgentK denied ${what ? `${what} ` : ''}${result.kind} ${result.target}: ${result.reason} [rule ${result.rule}, step ${result.step}]`;
}

/**
 * One line for a person watching the proxy's stderr: what was denied, by which rule, which
 * argument came from which page, and why (the reason names the command that approves it).
 */
export function denialReport(
  result: SyscallResult,
  pageOf: (id: string) => ContextPage | undefined,
): string {
  const tainted = result.provenance
    .filter((hit) => hit.labels.some((label) => label !== 'trusted'))
    .slice(0, 3)
    .map((hit) => {
      const page = pageOf(hit.page);
      const from = page ? `step ${page.step} ${page.source}` : hit.page;
      return `${hit.arg.replace(/^arg:/, '')} from ${from}`;
    });
  const steered = tainted.length > 0 ? ` (${tainted.join('; ')})` : '';
  const verb =
    result.verdict === 'ask'
      ? 'asked'
      : result.event?.decision.effect === 'ask'
        ? 'denied pending approval'
        : 'denied';
  const line = `${verb} ${result.kind} ${result.target} by ${result.rule} at step ${result.step}${steered}: ${result.reason}`;
  // Nothing a terminal would act on (escapes, bidi overrides): the tool name is the agent's.
  return redactSecrets(line).replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are removed.
    /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g,
    ' ',
  );
}

/**
 * A denied tools/call, as a tool result with isError (what agents show the model). A tool
 * that declared an output schema gets no structuredContent: the denial would not match it.
 */
export function toolDenialLine(id: JsonRpcId, result: SyscallResult, hasSchema: boolean): string {
  const denial = denialOf(result);
  return resultLine(id, {
    content: [{ type: 'text', text: denialText(result) }],
    isError: true,
    ...(hasSchema ? {} : { structuredContent: { agentk: denial } }),
    _meta: { 'agentk/denial': denial },
  });
}

/** A denied request other than tools/call: error -32003 with the denial as its data. */
export function errorDenialLine(id: JsonRpcId, result: SyscallResult): string {
  return errorLine(id, RPC.denied, denialText(result), { agentk: denialOf(result) });
}

/** Arguments shown in a question at most, and characters of each value. */
const SHOWN_ARGUMENTS = 12;
const SHOWN_VALUE = 300;
const SHOWN_ORIGINS = 8;

/**
 * The request's arguments as a person reads them: one line each, clipped, credential
 * material redacted (secrets the agent holds are handles already).
 */
function argumentLines(args: unknown): string[] {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return [];
  const entries = Object.entries(args);
  const lines = entries.slice(0, SHOWN_ARGUMENTS).map(([name, value]) => {
    // Redacted before it is clipped: a cut would leave the start of a credential unfound.
    const text = redactSecrets(JSON.stringify(value) ?? '');
    const clipped = text.length > SHOWN_VALUE ? `${text.slice(0, SHOWN_VALUE)}…` : text;
    return `  ${redactSecrets(name).slice(0, 64)}: ${clipped}`;
  });
  if (entries.length > SHOWN_ARGUMENTS)
    lines.push(`  … and ${entries.length - SHOWN_ARGUMENTS} more`);
  return lines.length > 0 ? ['Arguments:', ...lines] : [];
}

/**
 * Where each tainted argument's labels came from: the page, its step and its source, and
 * the page's text around the value where the proxy still has it.
 */
function originLines(
  asked: SyscallResult,
  pageOf: (id: string) => ContextPage | undefined,
  excerpt: (page: string, arg: string) => string | null,
): string[] {
  const hits = asked.provenance.filter((hit) => hit.labels.some((label) => label !== 'trusted'));
  const lines = hits.slice(0, SHOWN_ORIGINS).flatMap((hit) => {
    const page = pageOf(hit.page);
    const where = page ? `step ${page.step}, from ${page.source}` : `page ${hit.page}`;
    const quoted = excerpt(hit.page, hit.arg);
    return [
      `  ${hit.arg.replace(/^arg:/, '')} <- ${where} (${hit.labels.join(', ')}; sha256 ${hit.pageSha256.slice(0, 12)})`,
      ...(quoted !== null ? [`    "${quoted}"`] : []),
    ];
  });
  if (hits.length > SHOWN_ORIGINS) lines.push(`  … and ${hits.length - SHOWN_ORIGINS} more`);
  return lines.length > 0 ? ['Where the taint came from:', ...lines] : [];
}

/**
 * The elicitation/create params that put an `ask` to the client's user: what would run,
 * with its arguments, why it needs a person, and which pages steered it.
 */
export function approvalQuestion(
  asked: SyscallResult,
  args: unknown = undefined,
  pageOf: (id: string) => ContextPage | undefined = () => undefined,
  excerpt: (page: string, arg: string) => string | null = () => null,
): Record<string, unknown> {
  const taint = asked.controlLabels.filter((label) => label !== 'trusted');
  const detail = asked.event?.syscall.detail as { context_labels?: readonly string[] } | undefined;
  const compromised = detail?.context_labels?.includes('poisoned-suspect') === true;
  return {
    message: [
      `AgentK asks for your approval of one request by the agent.`,
      `What: ${asked.kind} ${asked.target}${taint.length > 0 ? ` (steered by ${taint.join(', ')} content)` : ''}`,
      ...argumentLines(args),
      ...originLines(asked, pageOf, excerpt),
      `Why it needs you: ${asked.reason} [rule ${asked.rule}]`,
      `Request hash: ${asked.requestHash}`,
      'Approving allows this exact request once; or, for the rest of this session, every ' +
        `${asked.kind} ${asked.target} with the same targets, paths, addresses and amounts ` +
        'as here (its other content may differ).',
    ].join('\n'),
    requestedSchema: {
      type: 'object',
      properties: {
        approve: { type: 'boolean', title: 'Allow this request?', default: false },
        scope: {
          type: 'string',
          title: 'For how long',
          enum: ['once', 'session'],
          enumNames: ['This request, once', 'This session: the same tool and targets'],
          default: 'once',
        },
        // Offered when the session is compromised: the person checked the content.
        ...(compromised
          ? {
              clear: {
                type: 'boolean',
                title:
                  'Also trust this session again (I checked the content that looked like an injection)',
                default: false,
              },
            }
          : {}),
      },
      required: ['approve'],
    },
  };
}

/** An asked request that a person declined (or did not answer), as a denial. */
export function declinedResult(asked: SyscallResult, why: string): SyscallResult {
  return {
    ...asked,
    verdict: 'deny',
    allowed: false,
    reason: `${asked.reason} (not approved: ${why})`,
  };
}
