// `agentk sandbox-check`: what this host can enforce for `--sandbox`, and whether it would
// work (exit 0) or fail (exit 1, with the one line `--sandbox` would print).

import { detectHost, type HostSupport } from '../../sandbox/host.js';
import { DEFAULT_LIMITS } from '../../sandbox/profile.js';
import { type Command, flag, json } from '../command.js';
import { EXIT, table } from '../io.js';

const yesNo = (value: boolean | null) => (value === null ? 'not tried' : value ? 'yes' : 'no');

function rows(host: HostSupport): string[][] {
  const nproc = !host.root
    ? 'per sandbox (counted in its own user namespace)'
    : host.cgroup.delegated
      ? "NOT enforced for root (the kernel exempts uid 0); the sandbox's cgroup pids.max is"
      : 'NOT enforced: AgentK runs as root, which the kernel exempts from RLIMIT_NPROC';
  return [
    ['platform', process.platform],
    ['bubblewrap', host.bwrap ? `${host.bwrap.path} ${host.bwrap.version}` : 'not found'],
    ['user namespaces', yesNo(host.userNamespaces)],
    ['network, PID namespaces', yesNo(host.networkNamespaces)],
    ['prlimit', host.prlimit ?? 'not found'],
    [
      'memory, files, file size, cpu',
      host.prlimit ? 'rlimits (RLIMIT_AS, NOFILE, FSIZE, CPU)' : 'no',
    ],
    ['processes', host.prlimit ? `RLIMIT_NPROC ${nproc}` : 'no'],
    [
      'cgroup v2',
      host.cgroup.mounted
        ? `mounted; our group ${host.cgroup.group ?? 'none'}`
        : 'not mounted (v1 or hybrid hierarchy)',
    ],
    [
      'cgroup delegation',
      host.cgroup.delegated
        ? `memory, pids${host.cgroup.controllers.includes('cpu') ? ', cpu' : ''} delegated and writable: memory.max, pids.max (and cpu.max) per sandbox, besides rlimits`
        : `no: ${host.cgroup.summary}`,
    ],
    [
      'network allow-list',
      host.networkNamespaces
        ? "AgentK's filtering proxy (HTTP CONNECT and forwarding) over a Unix socket bound into the sandbox; none unless the profile lists host:port"
        : 'no (needs network namespaces)',
    ],
  ];
}

export const sandboxCheckCommand: Command = {
  name: 'sandbox-check',
  usage: `agentk sandbox-check [--json]

Shows what this host can enforce for a server run with \`agentk mcp-proxy-stdio --sandbox\`
(docs/sandbox.md): bubblewrap and its version, whether it may create user, network and PID
namespaces (tried, not guessed), prlimit for the resource limits, whether the process limit
holds (not for root), and whether cgroup v2 is mounted and delegated to this user
(memory, pids, cpu controllers with write access: then each sandbox also gets a group
with memory.max and pids.max). Exits 1 with the
line --sandbox would fail with when it would fail here, 0 when it would work.`,
  options: { json: { type: 'boolean' } },
  positionals: [0, 0],
  run(args, io) {
    const host = detectHost(io.env.PATH);
    if (flag(args, 'json')) {
      io.stdout(json({ ok: host.missing === null, ...host, default_limits: DEFAULT_LIMITS }));
    } else {
      io.stdout(
        `${table(rows(host).map(([name, value]) => [`  ${name}`, value as string])).join('\n')}\n`,
      );
      io.stdout(
        host.missing === null
          ? '--sandbox: works on this host\n'
          : `--sandbox: would fail: ${host.missing}\n`,
      );
    }
    return host.missing === null ? EXIT.ok : EXIT.failed;
  },
};
