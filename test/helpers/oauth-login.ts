// `agentk login` as a person runs it, with the browser played by fetch: the built binary
// prints the authorization URL on stderr, the test follows it to the authorization server
// (which approves at once and redirects), then follows that redirect to the loopback
// callback AgentK listens on, exactly where a browser would go.

import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll } from 'vitest';
import { BIN } from './real.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

export interface LoginRun {
  /** The URL printed for the person to open (resolves when it is printed). */
  readonly authorizationUrl: Promise<string>;
  /** The exit code and everything the command printed. */
  readonly done: Promise<{ code: number | null; stderr: string; stdout: string }>;
}

/** `agentk login --server-id ID --url URL ...extra` with AGENTK_HOME=home. */
export function startLogin(
  home: string,
  serverId: string,
  url: string,
  extra: string[] = [],
): LoginRun {
  const child = spawn(
    process.execPath,
    [BIN, 'login', '--server-id', serverId, '--url', url, ...extra],
    {
      env: { PATH: process.env.PATH ?? '', AGENTK_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stderr = '';
  let stdout = '';
  let found: (url: string) => void = () => {};
  const authorizationUrl = new Promise<string>((resolve) => {
    found = resolve;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    const match = /^ {2}(http\S+)$/m.exec(stderr);
    if (match) found(match[1] as string);
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  const done = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    child.once('exit', (code) => resolve({ code, stderr, stdout }));
  });
  return { authorizationUrl, done };
}

/**
 * What the browser does: open the authorization URL (the server approves and redirects),
 * then follow the redirect to AgentK's callback (with `tamper` applied to it first).
 * Returns the callback's answer, and the callback URL (it carries the code).
 */
export async function followSignIn(
  authorizationUrl: string,
  tamper: (callback: URL) => void = () => {},
): Promise<{ status: number; page: string; callback: string }> {
  const approved = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = approved.headers.get('location');
  if (approved.status !== 302 || location === null) {
    throw new Error(
      `the authorization server answered ${approved.status}: ${await approved.text()}`,
    );
  }
  const callback = new URL(location);
  tamper(callback);
  const answer = await fetch(callback, { redirect: 'manual' });
  return { status: answer.status, page: await answer.text(), callback: callback.href };
}
