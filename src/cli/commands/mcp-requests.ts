// `agentk mcp-proxy --request FILE`, `agentk mcp-stdio`, `agentk mcp-lines`: mediate
// MCP-shaped requests without executing them.

import { readFileSync, statSync } from 'node:fs';
import { AgentkError } from '../../errors.js';
import { McpMediator } from '../../mcp/mediation/mediator.js';
import { mediateRequestLine } from '../../mcp/requests.js';
import { type Command, type ParsedArgs, stringOption, usageError } from '../command.js';
import type { CliIo } from '../io.js';
import { EXIT } from '../io.js';
import { commandKernel, KERNEL_OPTIONS, readBoundedStdin, serverIdOption } from '../mcp-common.js';

const MAX_REQUEST_BYTES = 1024 * 1024;
const MAX_LINES_BYTES = 16 * 1024 * 1024;

const COMMON_USAGE = `  --server-id ID    the server the requests are for (default: mcp)
  --policy FILE     policy (default: examples/agentk.policy.toml)
  --trace-out FILE  flight log (default: .agentk/runs/<command>-<run-id>.jsonl)

Prints one JSON object per request: the verdict, rule, reason, labels and step, and
"executed": false. Nothing is executed. Exit 0 when every request was mediated (allowed
or denied); 1 when a request was malformed.`;

function decoded(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AgentkError('NOT_UTF8', `${what} is not valid UTF-8`);
  }
}

function mediateAll(args: ParsedArgs, io: CliIo, prefix: string, lines: readonly string[]) {
  const kernel = commandKernel(args, io, prefix);
  const mediator = new McpMediator(kernel, serverIdOption(args, 'mcp'));
  let invalid = 0;
  try {
    for (const line of lines) {
      const outcome = mediateRequestLine(mediator, line);
      if (outcome.verdict === 'invalid') invalid += 1;
      io.stdout(`${JSON.stringify(outcome)}\n`);
    }
  } finally {
    kernel.close();
  }
  return invalid === 0 ? EXIT.ok : EXIT.failed;
}

export const mcpProxyCommand: Command = {
  name: 'mcp-proxy',
  usage: `agentk mcp-proxy --request FILE [--server-id ID] [--policy FILE] [--trace-out FILE]

Reads one JSON-RPC request (tools/call, resources/read or prompts/get; see
examples/mcp-tool-request.json) and decides it as the live proxy would.
${COMMON_USAGE}`,
  options: { ...KERNEL_OPTIONS, request: { type: 'string' } },
  positionals: [0, 0],
  run(args, io) {
    const path = stringOption(args, 'request');
    if (path === undefined) throw usageError('--request FILE is required');
    let bytes: Buffer;
    try {
      if (statSync(path).size > MAX_REQUEST_BYTES)
        throw usageError(`${path} exceeds ${MAX_REQUEST_BYTES} bytes`);
      bytes = readFileSync(path);
    } catch (error) {
      if (error instanceof AgentkError) throw error;
      throw new AgentkError(
        'FILE_NOT_FOUND',
        `cannot read request ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    return mediateAll(args, io, 'mcp-proxy', [decoded(bytes, path).trim()]);
  },
};

export const mcpStdioCommand: Command = {
  name: 'mcp-stdio',
  usage: `agentk mcp-stdio [--server-id ID] [--policy FILE] [--trace-out FILE] < request.json

Reads one JSON-RPC request of at most ${MAX_REQUEST_BYTES} bytes from stdin.
${COMMON_USAGE}`,
  options: KERNEL_OPTIONS,
  positionals: [0, 0],
  async run(args, io) {
    const text = decoded(await readBoundedStdin(io, MAX_REQUEST_BYTES), 'stdin').trim();
    if (text === '') throw usageError('no request on stdin');
    return mediateAll(args, io, 'mcp-stdio', [text]);
  },
};

export const mcpLinesCommand: Command = {
  name: 'mcp-lines',
  usage: `agentk mcp-lines [--server-id ID] [--policy FILE] [--trace-out FILE] < requests.jsonl

Reads newline-delimited JSON-RPC requests (at most ${MAX_LINES_BYTES} bytes in all, see
examples/mcp-tool-requests.jsonl); one kernel decides them all, so labels and provenance
carry across lines and the trace is one chain.
${COMMON_USAGE}`,
  options: KERNEL_OPTIONS,
  positionals: [0, 0],
  async run(args, io) {
    const text = decoded(await readBoundedStdin(io, MAX_LINES_BYTES), 'stdin');
    const lines = text
      .split('\n')
      .map((line) => line.replace(/\r$/, ''))
      .filter((line) => line.trim() !== '');
    return mediateAll(args, io, 'mcp-lines', lines);
  },
};
