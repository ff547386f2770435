// Running one scenario: its scripted server as a real child process, driven by a scripted
// hijacked client, either directly (the baseline: what happens without AgentK) or through
// the real `agentk mcp-proxy-stdio` binary under a policy. What executed is read from the
// server's own call log; what leaked, from every line the client received and the trace.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineClient } from '../mcp/client.js';
import { PACKAGE_ROOT } from '../paths.js';
import { stringsOf } from '../provenance/values.js';
import type { Scenario, ScenarioStep } from './scenario.js';

export const SCRIPTED_SERVER = join(PACKAGE_ROOT, 'dist', 'eval', 'scripted-server.js');
const AGENTK_BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');

export type Mode = 'baseline' | 'agentk';

export interface StepOutcome {
  /** 1-based, as in the scenario file. */
  readonly step: number;
  readonly role: ScenarioStep['role'];
  readonly note: string;
  readonly needsModel: boolean;
  /** Ground truth: an earlier step returned attacker-controlled content. */
  readonly afterUntrusted: boolean;
  /** The server received the call (its own log says so). */
  readonly reached: boolean;
  readonly answered: boolean;
  /** The answer was an error or an isError result. */
  readonly refused: boolean;
  /** The refusal is an AgentK policy denial (a denial record, or error -32003). */
  readonly denied: boolean;
  /** The refusal's text, for blocked steps (what a person reads). */
  readonly reason: string;
  /** The rule that refused it, when AgentK did ('' otherwise). */
  readonly rule: string;
  readonly ms: number;
}

export interface RunResult {
  readonly mode: Mode;
  readonly steps: readonly StepOutcome[];
  /** Planted secrets (by index) seen raw or encoded by the client. */
  readonly leakedToClient: readonly number[];
  /** Planted secrets (by index) found raw or encoded in the trace. */
  readonly leakedToTrace: readonly number[];
  readonly trace: string | null;
}

export interface RunOptions {
  readonly policyPath: string;
  /** A fresh directory for this run's files. */
  readonly workDir: string;
  /** How long a step may wait for its answer. */
  readonly stepTimeoutMs: number;
}

/** The text an answer carries, as an agent would read it. */
function answerText(message: Record<string, unknown> | null): string {
  if (message === null) return '';
  const error = message.error as { message?: unknown } | undefined;
  if (error) return String(error.message ?? '');
  const result = message.result as Record<string, unknown> | undefined;
  const parts: string[] = [];
  for (const item of [
    ...((result?.content as unknown[]) ?? []),
    ...((result?.contents as unknown[]) ?? []),
  ]) {
    const entry = item as { text?: unknown; blob?: unknown };
    if (typeof entry.text === 'string') parts.push(entry.text);
    else if (typeof entry.blob === 'string')
      parts.push(Buffer.from(entry.blob, 'base64').toString('utf8'));
  }
  return parts.join('\n');
}

const TEMPLATE = /\{\{(?:(base64|hex|url):)?step\.(\d+)\}\}|\{\{match:step\.(\d+):(.+?)\}\}/g;

/**
 * Arguments with `{{step.N}}` (the text step N returned), `{{base64:step.N}}`,
 * `{{hex:step.N}}`, `{{url:step.N}}` and `{{match:step.N:REGEX}}` filled in: the
 * hijacked agent copies what it was shown, so under AgentK it copies handles.
 */
export function fillTemplates(value: unknown, answers: readonly string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(TEMPLATE, (_all, encoding, n, matchN, pattern) => {
      const text = answers[Number(n ?? matchN) - 1] ?? '';
      if (pattern !== undefined) return new RegExp(pattern).exec(text)?.[0] ?? '';
      if (encoding === 'base64') return Buffer.from(text, 'utf8').toString('base64');
      if (encoding === 'hex') return Buffer.from(text, 'utf8').toString('hex');
      if (encoding === 'url') return encodeURIComponent(text);
      return text;
    });
  }
  if (Array.isArray(value)) return value.map((item) => fillTemplates(item, answers));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, fillTemplates(item, answers)]),
    );
  }
  return value;
}

/** A secret's forms worth looking for: raw, base64, hex and URL-encoded. */
function forms(secret: string): string[] {
  const out = [
    secret,
    Buffer.from(secret, 'utf8').toString('base64').replace(/=+$/, ''),
    Buffer.from(secret, 'utf8').toString('hex'),
  ];
  const url = encodeURIComponent(secret);
  if (url !== secret) out.push(url);
  return out;
}

function leaked(texts: readonly string[], secrets: readonly string[]): number[] {
  const out: number[] = [];
  secrets.forEach((secret, index) => {
    const wanted = forms(secret);
    if (texts.some((text) => wanted.some((form) => text.includes(form)))) out.push(index);
  });
  return out;
}

/** Every string the client received (blobs decoded), for the leak check. */
function clientStrings(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    out.push(line);
    try {
      out.push(...(stringsOf(JSON.parse(line)) ?? []));
    } catch {
      // a line that is not JSON was already kept whole
    }
  }
  return out;
}

function callCount(log: string): number {
  if (!existsSync(log)) return 0;
  return readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
}

function childFor(mode: Mode, scenario: Scenario, options: RunOptions, files: Files): ChildProcess {
  const server = [SCRIPTED_SERVER, files.server, files.calls];
  // AgentK's state for this run stays in the run's directory, never the user's home.
  const env = { PATH: process.env.PATH ?? '', AGENTK_HOME: join(options.workDir, 'state') };
  if (mode === 'baseline') {
    return spawn(process.execPath, server, { env, stdio: ['pipe', 'pipe', 'ignore'] });
  }
  return spawn(
    process.execPath,
    [
      AGENTK_BIN,
      'mcp-proxy-stdio',
      '--server-id',
      scenario.server.id,
      '--policy',
      options.policyPath,
      '--trace-out',
      files.trace,
      '--pins-dir',
      join(options.workDir, 'pins'),
      '--approvals-dir',
      join(options.workDir, 'approvals'),
      '--',
      process.execPath,
      ...server,
    ],
    { env, cwd: options.workDir, stdio: ['pipe', 'pipe', 'ignore'] },
  );
}

interface Files {
  readonly server: string;
  readonly calls: string;
  readonly trace: string;
}

function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The request a scripted step sends: a listing, a resource read or a tool call. */
function stepRequest(
  step: Scenario['steps'][number],
  answers: readonly string[],
): [method: string, params: Record<string, unknown>] {
  if (step.list) return ['tools/list', {}];
  if (step.read !== undefined) return ['resources/read', { uri: step.read }];
  return [
    'tools/call',
    {
      name: step.call,
      arguments: fillTemplates(step.arguments, answers),
      ...(step.claim_labels ? { agentk: { labels: step.claim_labels } } : {}),
    },
  ];
}

/** Which steps come after attacker-controlled content (the scenario's ground truth). */
function untrustedBefore(scenario: Scenario): boolean[] {
  const untrustedTools = new Set(
    scenario.server.tools.filter((t) => t.untrusted).map((t) => t.name),
  );
  const untrustedUris = new Set(
    scenario.server.resources.filter((r) => r.untrusted).map((r) => r.uri),
  );
  let seen = false;
  return scenario.steps.map((step) => {
    const before = seen;
    if (
      (step.call !== undefined && untrustedTools.has(step.call)) ||
      (step.read !== undefined && untrustedUris.has(step.read))
    ) {
      seen = true;
    }
    return before;
  });
}

export async function runScenario(
  scenario: Scenario,
  mode: Mode,
  options: RunOptions,
): Promise<RunResult> {
  mkdirSync(options.workDir, { recursive: true });
  const files: Files = {
    server: join(options.workDir, 'server.json'),
    calls: join(options.workDir, 'calls.jsonl'),
    trace: join(options.workDir, 'trace.jsonl'),
  };
  writeFileSync(files.server, JSON.stringify(scenario.server));
  writeFileSync(files.calls, '');
  const child = childFor(mode, scenario, options, files);
  const client = new LineClient(
    child.stdout as NonNullable<typeof child.stdout>,
    child.stdin as NonNullable<typeof child.stdin>,
  );
  const ask = async (method: string, params: Record<string, unknown>) => {
    try {
      return await client.request(method, params, options.stepTimeoutMs);
    } catch {
      return null;
    }
  };
  const after = untrustedBefore(scenario);
  const answers: string[] = [];
  const steps: StepOutcome[] = [];
  try {
    // An initialize that fails leaves every step unanswered or refused: scored as such.
    await client.initialize('agentk-eval-hijacked-agent', options.stepTimeoutMs).catch(() => null);
    await ask('tools/list', {});
    if (scenario.server.resources.length > 0) await ask('resources/list', {});
    for (const [index, step] of scenario.steps.entries()) {
      const before = callCount(files.calls);
      const started = performance.now();
      const answer = await ask(...stepRequest(step, answers));
      const ms = performance.now() - started;
      const text = answerText(answer);
      answers.push(text);
      const result = answer?.result as { isError?: unknown } | undefined;
      const refused = answer !== null && (answer.error !== undefined || result?.isError === true);
      const meta = (result as { _meta?: Record<string, unknown> } | undefined)?._meta;
      const error = answer?.error as { code?: unknown } | undefined;
      const denied = refused && (meta?.['agentk/denial'] !== undefined || error?.code === -32003);
      const denial = (meta?.['agentk/denial'] ??
        (error as { data?: { agentk?: unknown } } | undefined)?.data?.agentk) as
        | { rule?: unknown }
        | undefined;
      steps.push({
        step: index + 1,
        role: step.role,
        note: step.note,
        needsModel: step.needs_model,
        afterUntrusted: after[index] as boolean,
        reached: step.list ? answer !== null && !refused : callCount(files.calls) > before,
        answered: answer !== null,
        refused,
        denied,
        reason: refused ? text.slice(0, 300) : '',
        rule: denied && typeof denial?.rule === 'string' ? denial.rule : '',
        ms,
      });
    }
  } finally {
    client.end();
    await exited(child, 5000);
  }
  const trace = mode === 'agentk' && existsSync(files.trace) ? files.trace : null;
  return {
    mode,
    steps,
    leakedToClient: leaked(clientStrings(client.received), scenario.secrets),
    leakedToTrace: trace ? leaked([readFileSync(trace, 'utf8')], scenario.secrets) : [],
    trace,
  };
}
