// The CLI's single entry and exit: parse, dispatch to one command, map every error to one
// line on stderr and an exit code. Nothing else in the CLI decides exit codes, and no
// user error ever prints a stack trace.

import { AgentkError } from '../errors.js';
import { type Command, parseCommandArgs } from './command.js';
import { approveCommand } from './commands/approve.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { forkReplayCommand } from './commands/fork-replay.js';
import { forkReplayBehaviorCommand } from './commands/fork-replay-behavior.js';
import { keyRotateCommand } from './commands/key-rotate.js';
import { keyRotateVerifyCommand } from './commands/key-rotate-verify.js';
import { keygenCommand } from './commands/keygen.js';
import { mcpKillerDemoCommand, mcpShimEvalCommand } from './commands/mcp-demos.js';
import { mcpProxyStdioCommand } from './commands/mcp-proxy-stdio.js';
import { mcpLinesCommand, mcpProxyCommand, mcpStdioCommand } from './commands/mcp-requests.js';
import { mcpServerCommand } from './commands/mcp-server.js';
import { pinsCommand } from './commands/pins.js';
import { policyCheckCommand } from './commands/policy-check.js';
import { policyDiffCommand } from './commands/policy-diff.js';
import { readinessCommand } from './commands/readiness.js';
import { releaseAuditCommand } from './commands/release-audit.js';
import { replayCommand } from './commands/replay.js';
import { secretRefsCheckCommand } from './commands/secret-refs-check.js';
import { secretRefsStoreCheckCommand } from './commands/secret-refs-store-check.js';
import { signingKeyCommand } from './commands/signing-key.js';
import { traceInspectCommand } from './commands/trace-inspect.js';
import { trustedSignersCheckCommand } from './commands/trusted-signers-check.js';
import { verifyCommand } from './commands/verify.js';
import { verifySignaturesCommand } from './commands/verify-signatures.js';
import { type CliIo, EXIT, type ExitCode, processIo, table } from './io.js';
import { packageVersion } from './version.js';

export const COMMANDS: readonly Command[] = [
  demoCommand,
  verifyCommand,
  verifySignaturesCommand,
  trustedSignersCheckCommand,
  traceInspectCommand,
  replayCommand,
  forkReplayCommand,
  forkReplayBehaviorCommand,
  policyCheckCommand,
  policyDiffCommand,
  evalCommand,
  readinessCommand,
  releaseAuditCommand,
  signingKeyCommand,
  keygenCommand,
  keyRotateCommand,
  keyRotateVerifyCommand,
  secretRefsCheckCommand,
  secretRefsStoreCheckCommand,
  mcpProxyStdioCommand,
  mcpProxyCommand,
  mcpStdioCommand,
  mcpLinesCommand,
  mcpServerCommand,
  mcpKillerDemoCommand,
  mcpShimEvalCommand,
  pinsCommand,
  approveCommand,
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
    const command = COMMANDS.find((candidate) => candidate.name === rest[0]);
    io.stdout(command ? `${command.usage}\n` : help());
    return EXIT.ok;
  }
  if (first === '--version' || first === '-V') {
    io.stdout(`agentk ${packageVersion()}\n`);
    return EXIT.ok;
  }
  const name = first === undefined || first.startsWith('-') ? 'demo' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.stderr(`agentk: unknown command ${JSON.stringify(name)} (run agentk help)\n`);
    return EXIT.usage;
  }
  try {
    const parsed = parseCommandArgs(command, args);
    if (parsed.values.help === true) {
      io.stdout(`${command.usage}\n`);
      return EXIT.ok;
    }
    return await command.run(parsed, io);
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
