// The CLI's single entry and exit: parse, dispatch to one command, map every error to one
// line on stderr and an exit code. Nothing else in the CLI decides exit codes, and no
// user error ever prints a stack trace.

import { AgentkError } from '../errors.js';
import { type Command, parseCommandArgs } from './command.js';
import { type CliIo, EXIT, type ExitCode, processIo, table } from './io.js';
import { packageVersion } from './version.js';

/**
 * The commands, with the line `agentk help` shows. A command's module (and everything it
 * imports) is loaded only when that command runs, so each starts without loading the rest.
 */
export const COMMANDS: readonly {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}[] = [
  {
    name: 'demo',
    summary: 'run the first demo: a poisoned web page tries to exfiltrate ~/.ssh/id_rsa',
    load: async () => (await import('./commands/demo.js')).demoCommand,
  },
  {
    name: 'verify',
    summary: 'verify a flight log: hash chain, canonical encoding and signed seal',
    load: async () => (await import('./commands/verify.js')).verifyCommand,
  },
  {
    name: 'verify-signatures',
    summary:
      'verify every receipt, secret handle and seal of a log, optionally pinned to trusted keys',
    load: async () => (await import('./commands/verify-signatures.js')).verifySignaturesCommand,
  },
  {
    name: 'trusted-signers-check',
    summary: 'validate a trusted-signer manifest (counts and labels; never the keys)',
    load: async () =>
      (await import('./commands/trusted-signers-check.js')).trustedSignersCheckCommand,
  },
  {
    name: 'trace-inspect',
    summary: 'show a verified flight log for review: decisions, labels and hash evidence, redacted',
    load: async () => (await import('./commands/trace-inspect.js')).traceInspectCommand,
  },
  {
    name: 'why',
    summary: 'explain why a step of a trace was refused, and the policy rule that would change it',
    load: async () => (await import('./commands/why.js')).whyCommand,
  },
  {
    name: 'view',
    summary:
      'open a flight log in a browser: verification first, the timeline, provenance, a summary',
    load: async () => (await import('./commands/view.js')).viewCommand,
  },
  {
    name: 'replay',
    summary: 'replay a verified log without side effects (stub outputs by hash, blocked rules)',
    load: async () => (await import('./commands/replay.js')).replayCommand,
  },
  {
    name: 'fork-replay',
    summary: 're-decide every syscall of a verified log under another policy; list the changes',
    load: async () => (await import('./commands/fork-replay.js')).forkReplayCommand,
  },
  {
    name: 'fork-replay-behavior',
    summary:
      'fork a verified log with changed model/tool outputs (by hash) and show where it diverges',
    load: async () =>
      (await import('./commands/fork-replay-behavior.js')).forkReplayBehaviorCommand,
  },
  {
    name: 'policy-check',
    summary: 'validate a policy file and summarise its rules',
    load: async () => (await import('./commands/policy-check.js')).policyCheckCommand,
  },
  {
    name: 'policy-diff',
    summary: 'list every cell of the decision space where two policies reach different effects',
    load: async () => (await import('./commands/policy-diff.js')).policyDiffCommand,
  },
  {
    name: 'eval',
    summary:
      'run the attack corpus without and with AgentK, and score blocks, false blocks and leaks',
    load: async () => (await import('./commands/eval.js')).evalCommand,
  },
  {
    name: 'readiness',
    summary:
      'the public-readiness gate: files, shipped policies, signing key, tracked secrets, claims',
    load: async () => (await import('./commands/readiness.js')).readinessCommand,
  },
  {
    name: 'release-audit',
    summary: 'readiness, format, lint, types, the test suite, and a smoke run of every command',
    load: async () => (await import('./commands/release-audit.js')).releaseAuditCommand,
  },
  {
    name: 'signing-key',
    summary: 'show the active signing public key, its source and whether it is production-ready',
    load: async () => (await import('./commands/signing-key.js')).signingKeyCommand,
  },
  {
    name: 'keygen',
    summary: 'generate an Ed25519 signing key file (mode 0600); prints only the public key',
    load: async () => (await import('./commands/keygen.js')).keygenCommand,
  },
  {
    name: 'key-rotate',
    summary: 'rotate a signing key: a new key file plus a public, signed rotation manifest',
    load: async () => (await import('./commands/key-rotate.js')).keyRotateCommand,
  },
  {
    name: 'key-rotate-verify',
    summary: 'verify a key-rotation manifest (any changed byte fails)',
    load: async () => (await import('./commands/key-rotate-verify.js')).keyRotateVerifyCommand,
  },
  {
    name: 'secret-refs-check',
    summary: 'validate a secret-reference manifest (counts only; never references or values)',
    load: async () => (await import('./commands/secret-refs-check.js')).secretRefsCheckCommand,
  },
  {
    name: 'secret-refs-store-check',
    summary: 'check that every secret reference is available from its store (counts only)',
    load: async () =>
      (await import('./commands/secret-refs-store-check.js')).secretRefsStoreCheckCommand,
  },
  {
    name: 'mcp-proxy-stdio',
    summary:
      'run an MCP server behind AgentK: every descriptor, call, resource and prompt is mediated',
    load: async () => (await import('./commands/mcp-proxy-stdio.js')).mcpProxyStdioCommand,
  },
  {
    name: 'mcp-proxy-http',
    summary:
      'serve MCP over Streamable HTTP in front of a server, one mediated session and trace per client session',
    load: async () => (await import('./commands/mcp-proxy-http.js')).mcpProxyHttpCommand,
  },
  {
    name: 'mcp-proxy',
    summary: 'mediate one MCP-shaped request from a file without executing it',
    load: async () => (await import('./commands/mcp-requests.js')).mcpProxyCommand,
  },
  {
    name: 'mcp-stdio',
    summary: 'mediate one bounded MCP-shaped request from stdin without executing it',
    load: async () => (await import('./commands/mcp-requests.js')).mcpStdioCommand,
  },
  {
    name: 'mcp-lines',
    summary: 'mediate newline-delimited MCP-shaped requests from stdin, one hash-chained kernel',
    load: async () => (await import('./commands/mcp-requests.js')).mcpLinesCommand,
  },
  {
    name: 'mcp-server',
    summary:
      'serve the kernel over MCP (stdio): agentk.mediate, agentk.mediate_descriptor, agentk.record_response',
    load: async () => (await import('./commands/mcp-server.js')).mcpServerCommand,
  },
  {
    name: 'mcp-killer-demo',
    summary: 'poisoned MCP tool output tries to exfiltrate a private marker and patch the repo',
    load: async () => (await import('./commands/mcp-demos.js')).mcpKillerDemoCommand,
  },
  {
    name: 'mcp-shim-eval',
    summary: 'before/after scorecard: the poisoned MCP flow without AgentK and through it',
    load: async () => (await import('./commands/mcp-demos.js')).mcpShimEvalCommand,
  },
  {
    name: 'wrap',
    summary:
      "put AgentK in front of every local server of an MCP client's configuration (backup kept)",
    load: async () => (await import('./commands/wrap.js')).wrapCommand,
  },
  {
    name: 'unwrap',
    summary: "take AgentK out of an MCP client's configuration again",
    load: async () => (await import('./commands/wrap.js')).unwrapCommand,
  },
  {
    name: 'login',
    summary: 'sign in to a remote MCP server with OAuth, for mcp-proxy-stdio --url --oauth',
    load: async () => (await import('./commands/login.js')).loginCommand,
  },
  {
    name: 'logout',
    summary: 'forget the OAuth sign-in agentk login stored for a remote MCP server',
    load: async () => (await import('./commands/login.js')).logoutCommand,
  },
  {
    name: 'pins',
    summary: 'list, show or approve pinned MCP catalogues (tool, resource and prompt descriptors)',
    load: async () => (await import('./commands/pins.js')).pinsCommand,
  },
  {
    name: 'runs',
    summary: "list, show or prune the proxy's flight logs of a workspace (bounded by default)",
    load: async () => (await import('./commands/runs.js')).runsCommand,
  },
  {
    name: 'sandbox-check',
    summary: 'show what this host can enforce for mcp-proxy-stdio --sandbox; fail if it cannot',
    load: async () => (await import('./commands/sandbox-check.js')).sandboxCheckCommand,
  },
  {
    name: 'approve',
    summary:
      'approve one request the policy asks a person about (by its request hash), for one retry',
    load: async () => (await import('./commands/approve.js')).approveCommand,
  },
];

function help(): string {
  return [
    'AgentK: the syscall boundary between an AI agent and the world.',
    '',
    'Usage: agentk [command] [options]     (no command: agentk demo)',
    '',
    'Commands:',
    ...table(COMMANDS.map((command) => [`  ${command.name}`, command.summary])),
    '',
    "Run `agentk <command> --help` for a command's options.",
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    const entry = COMMANDS.find((candidate) => candidate.name === rest[0]);
    io.stdout(entry ? `${(await entry.load()).usage}\n` : help());
    return EXIT.ok;
  }
  if (first === '--version' || first === '-V') {
    io.stdout(`agentk ${packageVersion()}\n`);
    return EXIT.ok;
  }
  const name = first === undefined || first.startsWith('-') ? 'demo' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const entry = COMMANDS.find((candidate) => candidate.name === name);
  if (!entry) {
    io.stderr(`agentk: unknown command ${JSON.stringify(name)} (run agentk help)\n`);
    return EXIT.usage;
  }
  let command: Command;
  try {
    command = await entry.load();
  } catch (error) {
    // A broken install (a missing or unbuilt file), not a user error: one line, no stack.
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
    io.stderr(`agentk ${name}: cannot load this command (${code}); run \`npm ci\` again\n`);
    return EXIT.failed;
  }
  try {
    const parsed = parseCommandArgs(command, args);
    if (parsed.values.help === true) {
      io.stdout(`${command.usage}\n`);
      return EXIT.ok;
    }
    return await command.run(parsed, io, { run: main });
  } catch (error) {
    if (error instanceof AgentkError) {
      io.stderr(`agentk ${command.name}: ${error.message}\n`);
      for (const problem of error.problems) io.stderr(`  ${problem}\n`);
      return error.code === 'LOG_TAMPERED' ? EXIT.failed : EXIT.usage;
    }
    // A bug, not a user error: say so plainly, with the message but no stack trace unless asked.
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`agentk ${command.name}: internal error: ${message}\n`);
    if (io.env.AGENTK_DEBUG === '1' && error instanceof Error && error.stack)
      io.stderr(`${error.stack}\n`);
    return EXIT.failed;
  }
}
