// Plays a scripted session through the proxy binary against a real MCP server from npm,
// with the official SDK client (no elicitation: a question AgentK would ask comes back as a
// refusal with verdict `ask`), and scores each step.

import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { verifyLogFile } from '../../src/recorder/verify.js';
import { proxied } from '../helpers/real.js';

export type Args = Record<string, unknown>;

/** What earlier steps returned, for a step whose arguments copy from them (as agents do). */
export interface Seen {
  /** The text step `index` (0-based) returned. */
  readonly texts: readonly string[];
  /** The first match of `pattern` (group 1 if it has one) in what step `index` returned. */
  match(index: number, pattern: RegExp): string;
}

export interface SessionStep {
  readonly role: 'honest' | 'attack';
  readonly tool: string;
  readonly args: Args | ((seen: Seen) => Args);
  readonly note?: string;
  /**
   * A policy under which this honest step is asked by design, and the rule that asks (the
   * coding profile asks before every reset): expected, and reported as asked.
   */
  readonly askedUnder?: { readonly policy: string; readonly rule: string };
}

export interface ServerSpec {
  readonly id: string;
  /** The server's node script and its arguments. */
  readonly child: readonly string[];
  /** Variables the proxy passes to the server (--allow-env) and their values. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Session {
  readonly id: string;
  readonly about: string;
  /** The policies it is played under (default: the default policy and the coding profile). */
  readonly policies?: readonly string[];
  /** Prepares the user's workspace under `dir` and names the server to run. */
  readonly setup: (dir: string) => { server: ServerSpec; steps: readonly SessionStep[] };
}

/**
 * `ok`, `error` (the server's own), `asked:<rule>`, `refused:<rule>`, or `skipped:<why>`
 * (a step whose arguments copy from an answer that never came, as an earlier step was
 * stopped: not played, not counted).
 */
export type Outcome = string;

export interface Played {
  readonly id: string;
  readonly steps: readonly SessionStep[];
  readonly outcomes: readonly Outcome[];
  /** What each step returned, as text. */
  readonly texts: readonly string[];
  readonly traceVerifies: boolean;
}

export interface Tally {
  honest: number;
  allowed: number;
  asked: number;
  refused: number;
  attacks: number;
  blocked: number;
}

/** A fresh directory at a long, symlink-free path (longer than the fingerprint window). */
export function sessionDir(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), 'agentk-sessions-')));
}

function textOf(result: unknown): string {
  const content = (result as { content?: unknown }).content;
  if (!Array.isArray(content)) return JSON.stringify(result);
  return content
    .map((part: { type?: string; text?: string }) =>
      part.type === 'text' ? (part.text ?? '') : JSON.stringify(part),
    )
    .join('\n');
}

export function outcomeOf(result: { isError?: unknown; _meta?: unknown }): Outcome {
  const denial = (
    result._meta as Record<string, { rule?: string; needs_approval?: boolean }> | undefined
  )?.['agentk/denial'];
  if (denial) return `${denial.needs_approval === true ? 'asked' : 'refused'}:${denial.rule}`;
  return result.isError === true ? 'error' : 'ok';
}

/** Plays `session` through `agentk mcp-proxy-stdio` (extra proxy options in `extra`). */
export async function play(session: Session, extra: readonly string[] = []): Promise<Played> {
  const dir = sessionDir();
  if (process.env.SESSIONS_KEEP !== undefined) console.log(`${session.id}: ${dir}`);
  const { server, steps } = session.setup(dir);
  const trace = join(dir, 'trace.jsonl');
  const env = server.env ?? {};
  const allowEnv = Object.keys(env).flatMap((name) => ['--allow-env', name]);
  const [command, args] = proxied(server.id, trace, [...server.child], [...allowEnv, ...extra]);
  const transport = new StdioClientTransport({
    command,
    args,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      AGENTK_HOME: process.env.AGENTK_HOME ?? join(dir, 'state'),
      ...env,
    },
    cwd: dir,
    stderr: 'ignore',
  });
  const client = new Client({ name: 'agentk-sessions', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  // An agent lists the tools before it calls them (their descriptors classify them).
  await client.listTools();
  const texts: string[] = [];
  const seen: Seen = {
    texts,
    match(index, pattern) {
      const found = pattern.exec(texts[index] ?? '');
      if (!found) throw new Error(`${session.id}: step ${index + 1} returned no ${pattern}`);
      return found[1] ?? found[0];
    },
  };
  const outcomes: Outcome[] = [];
  try {
    for (const step of steps) {
      let args: Args;
      try {
        args = typeof step.args === 'function' ? step.args(seen) : step.args;
      } catch (error) {
        // What it copies from never came (an earlier step was stopped): not played.
        texts.push('');
        outcomes.push(`skipped:${(error as Error).message}`);
        continue;
      }
      const result = await client.callTool({ name: step.tool, arguments: args });
      texts.push(textOf(result));
      outcomes.push(outcomeOf(result));
      if (process.env.SESSIONS_KEEP !== undefined) {
        console.log(
          `${texts.length} ${step.tool} ${outcomes.at(-1)} ${texts.at(-1)?.slice(0, 300)}`,
        );
      }
    }
  } finally {
    await client.close();
  }
  return { id: session.id, steps, outcomes, texts, traceVerifies: verifyLogFile(trace).ok };
}

export function tally(played: Played): Tally {
  const t: Tally = { honest: 0, allowed: 0, asked: 0, refused: 0, attacks: 0, blocked: 0 };
  played.steps.forEach((step, i) => {
    const outcome = played.outcomes[i] ?? '';
    if (outcome.startsWith('skipped:')) return;
    const stopped = outcome.startsWith('asked:') || outcome.startsWith('refused:');
    if (step.role === 'attack') {
      t.attacks++;
      if (stopped) t.blocked++;
      return;
    }
    t.honest++;
    if (outcome.startsWith('asked:')) t.asked++;
    else if (outcome.startsWith('refused:')) t.refused++;
    else t.allowed++;
  });
  return t;
}
