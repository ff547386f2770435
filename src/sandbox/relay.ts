// The relay inside a sandbox with a network allow-list. The sandbox has a network
// namespace of its own with nothing but loopback, so the server's only way out is AgentK's
// filtering proxy, whose Unix socket is bound into the sandbox. Clients speak to an HTTP
// proxy over TCP, so a small Node program listens on 127.0.0.1:RELAY_PORT inside the
// namespace and carries each connection to that socket byte for byte; it starts the
// server once it listens (a server that connects at once finds it there) and ends with
// the server's status, 128 + n for a death by signal n, as bwrap reports one. It decides
// nothing: the proxy outside does. It is given to `node -e` (CommonJS, built-ins only), so
// nothing of AgentK's own files needs to be shown in the sandbox.

/** Where the proxy's socket appears inside the sandbox. */
export const SANDBOX_PROXY_SOCKET = '/run/agentk/network.sock';

/** The port the relay listens on, on the sandbox's own loopback. */
export const RELAY_PORT = 3128;

/** The server's proxy variables (and NO_PROXY unset: nothing is reached directly). */
export function proxyEnvironment(): Record<string, string> {
  const url = `http://127.0.0.1:${RELAY_PORT}`;
  const env: Record<string, string> = {};
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) {
    env[name] = url;
    env[name.toLowerCase()] = url;
  }
  return env;
}

export const UNSET_PROXY_VARIABLES = ['NO_PROXY', 'no_proxy'] as const;

/** `node -e RELAY_SOURCE -- PORT SOCKET COMMAND ARGS...` */
export const RELAY_SOURCE = `'use strict';
const net = require('node:net');
const { spawn } = require('node:child_process');
const { constants } = require('node:os');
const [port, socketPath, command, ...args] = process.argv.slice(1);
const say = (line) => process.stderr.write('agentk sandbox relay: ' + line + '\\n');
const relay = net.createServer({ allowHalfOpen: true }, (inside) => {
  const outside = net.connect({ path: socketPath, allowHalfOpen: true });
  const drop = () => { inside.destroy(); outside.destroy(); };
  inside.on('error', drop);
  outside.on('error', drop);
  inside.on('close', drop);
  outside.on('close', drop);
  inside.pipe(outside);
  outside.pipe(inside);
});
relay.on('error', (error) => { say(error.message); process.exit(70); });
relay.listen(Number(port), '127.0.0.1', () => {
  const server = spawn(command, args, { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => server.kill(signal));
  server.on('error', (error) => { say('cannot start ' + command + ': ' + (error.code || error.message)); process.exit(127); });
  server.on('exit', (code, signal) => process.exit(code !== null ? code : 128 + (constants.signals[signal] || 0)));
});
`;

/** The command line, after prlimit's, that runs the relay and then the server under it. */
export function relayCommand(runtime: string, command: string, args: readonly string[]): string[] {
  return [
    runtime,
    '-e',
    RELAY_SOURCE,
    '--',
    String(RELAY_PORT),
    SANDBOX_PROXY_SOCKET,
    command,
    ...args,
  ];
}
