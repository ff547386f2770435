// The sandbox tests' world: a workspace, a fake home with a planted SSH key, a signing key
// file inside the workspace, a directory outside it, and the proxy binary (dist/, through
// bin/agentk.js) in front of a server, driven by the official SDK client.

import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { detectHost, findExecutable } from '../../src/sandbox/host.js';

export const BIN = join(PACKAGE_ROOT, 'bin', 'agentk.js');
export const HOSTILE_SERVER = join(PACKAGE_ROOT, 'test', 'fixtures', 'mcp', 'hostile-server.mjs');
export const PLANTED_SSH_KEY = '-----BEGIN OPENSSH PRIVATE KEY----- planted';

/** Why the sandbox tests cannot run here, or null (they run where --sandbox would work). */
export function sandboxUnavailable(): string | null {
  const missing = detectHost(process.env.PATH).missing;
  return missing === null ? null : `--sandbox cannot run on this host: ${missing}`;
}

export const BASE_POLICY = `version = 1

[agent]
id = "sandbox-test"

[capabilities]
grant = ["tool.invoke:*", "network.send:*"]

[[rules]]
id = "allow-test-servers"
effect = "allow"
reason = "the sandbox, not the policy, is under test"
when = { targets = ["hostile/*", "plain/*", "fs/*", "memory/*", "git/*"] }

[[rules]]
id = "deny-tunnel-to-127.0.0.2"
effect = "deny"
reason = "the policy, after the sandbox's allow-list, refuses this one"
when = { syscalls = ["network.send"], targets = ["https://127.0.0.2:*"] }

[[rules]]
id = "allow-server-network"
effect = "allow"
reason = "what the sandbox's allow-list lets through"
when = { syscalls = ["network.send"] }

[[rules]]
id = "deny-rest"
effect = "deny"
reason = "catch-all"
`;

export interface World {
  readonly root: string;
  readonly workspace: string;
  readonly home: string;
  readonly outside: string;
  readonly keyFile: string;
  readonly state: string;
  readonly policy: string;
}

/** A fresh world; `sandboxToml` is appended to the policy. */
export function world(sandboxToml = ''): World {
  const root = mkdtempSync(join(tmpdir(), 'agentk-sandbox-'));
  const dirs = {
    workspace: join(root, 'workspace'),
    home: join(root, 'home'),
    outside: join(root, 'outside'),
    state: join(root, 'state'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(join(dirs.home, '.ssh'), { mode: 0o700 });
  writeFileSync(join(dirs.home, '.ssh', 'id_rsa'), `${PLANTED_SSH_KEY}\n`, { mode: 0o600 });
  // The signing key inside the workspace: the sandbox must cover it although it binds the workspace.
  mkdirSync(join(dirs.workspace, 'keys'), { mode: 0o700 });
  const keyFile = join(dirs.workspace, 'keys', 'signing.key');
  writeFileSync(keyFile, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
  const policy = join(root, 'policy.toml');
  writeFileSync(policy, `${BASE_POLICY}\n${sandboxToml}`);
  return { root, ...dirs, keyFile, policy };
}

export interface Connected {
  readonly client: Client;
  readonly stderr: () => string;
  readonly trace: string;
  /** Close the client and wait for the proxy to exit; its stderr. */
  close(): Promise<string>;
  call(name: string, args?: Record<string, unknown>): Promise<string>;
}

/** The proxy binary's command line as `serverId` under the world's policy, writing `trace`. */
function proxyArgv(
  w: World,
  serverId: string,
  trace: string,
  flags: readonly string[],
  server: readonly string[],
): string[] {
  return [
    BIN,
    'mcp-proxy-stdio',
    '--server-id',
    serverId,
    '--policy',
    w.policy,
    '--trace-out',
    trace,
    ...flags,
    '--',
    ...server,
  ];
}

/** The proxy binary as `serverId`, in front of `server` (command line), in the world's workspace. */
export async function proxyClient(
  w: World,
  serverId: string,
  server: readonly string[],
  flags: readonly string[] = [],
  wrapper: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): Promise<Connected> {
  const trace = join(w.root, `trace-${serverId}-${Date.now()}.jsonl`);
  const argv = proxyArgv(w, serverId, trace, flags, server);
  const transport = new StdioClientTransport({
    command: wrapper.length > 0 ? (wrapper[0] as string) : process.execPath,
    args: wrapper.length > 0 ? [...wrapper.slice(1), process.execPath, ...argv] : argv,
    cwd: w.workspace,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: w.home,
      AGENTK_HOME: w.state,
      AGENTK_SIGNING_KEY_FILE: w.keyFile,
      ...env,
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'sandbox-test', version: '1.0.0' });
  const exited = new Promise<void>((resolve) => {
    client.onclose = () => resolve();
  });
  await client.connect(transport);
  return {
    client,
    trace,
    stderr: () => stderr,
    async close() {
      await client.close();
      await exited;
      return stderr;
    },
    async call(name, args = {}) {
      const result = await client.callTool({ name, arguments: args });
      const content = result.content as { type: string; text?: string }[];
      return content.map((part) => part.text ?? '').join('');
    },
  };
}

/** The hostile server's command line, told where the key is, what is outside, which port. */
export function hostileServer(w: World, port: number): string[] {
  return [
    process.execPath,
    HOSTILE_SERVER,
    JSON.stringify({ key: w.keyFile, outside: w.outside, port }),
  ];
}

/** Run the proxy binary to its end with no client (it fails before starting a server). */
export function runProxy(
  w: World,
  serverId: string,
  flags: readonly string[],
  env: Record<string, string> = {},
) {
  return spawnSync(
    process.execPath,
    [BIN, 'mcp-proxy-stdio', '--server-id', serverId, '--policy', w.policy, ...flags, '--', 'true'],
    {
      cwd: w.workspace,
      encoding: 'utf8',
      input: '',
      env: { PATH: process.env.PATH ?? '', HOME: w.home, AGENTK_HOME: w.state, ...env },
    },
  );
}

/** Give the world to `uid`, so that a proxy run as that user can use it. */
function giveTo(w: World, uid: number): void {
  const walk = (path: string) => {
    chownSync(path, uid, uid);
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(w.root);
}

/**
 * The wrapper that runs the proxy as `nobody` (uid 65534), the world given to that user;
 * or why it cannot here: not root, no setpriv, or a checkout that user cannot read (one
 * under /root).
 */
export function asNobody(w: World): { readonly wrapper: string[] } | { readonly skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'only root can run the proxy as another user' };
  const setpriv = findExecutable('setpriv', process.env.PATH);
  if (setpriv === null) return { skip: 'setpriv (util-linux) is not installed' };
  const wrapper = [setpriv, '--reuid=65534', '--regid=65534', '--clear-groups'];
  const readable = spawnSync(setpriv, [...wrapper.slice(1), 'test', '-r', HOSTILE_SERVER]);
  if (readable.status !== 0) return { skip: 'this checkout is not readable by uid 65534' };
  giveTo(w, 65534);
  return { wrapper };
}

/** A trace's events (checkpoint lines skipped). */
export function traceEvents(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('{"checkpoint":'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The records of a trace's `sandbox` events, in order. */
export function sandboxRecords(path: string): Record<string, unknown>[] {
  return traceEvents(path)
    .filter((event) => event.type === 'sandbox')
    .map((event) => event.sandbox as Record<string, unknown>);
}

/** `agentk <args>`, run to its end (verify, trace-inspect, verify-signatures). */
export function agentk(w: World, args: readonly string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: w.workspace,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: w.home, AGENTK_HOME: w.state },
  });
}

/**
 * The proxy in front of `server` with its input held open (no client speaks), until it
 * exits by itself: for a server that dies on its own. Its exit status and stderr.
 */
export function proxyUntilExit(
  w: World,
  serverId: string,
  server: readonly string[],
  trace: string,
): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, proxyArgv(w, serverId, trace, [], server), {
    cwd: w.workspace,
    stdio: ['pipe', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: w.home,
      AGENTK_HOME: w.state,
      AGENTK_SIGNING_KEY_FILE: w.keyFile,
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve) => {
    child.on('close', (status) => {
      child.stdin.destroy();
      resolve({ status, stderr });
    });
  });
}
