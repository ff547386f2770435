// `agentk mcp-server`: the kernel as an MCP server over stdio (mediation only).

import { PassThrough } from 'node:stream';
import { LineReader } from '../../mcp/framing.js';
import { errorLine, RPC } from '../../mcp/jsonrpc.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../mcp/proxy/types.js';
import { AgentkMcpServer } from '../../mcp/server.js';
import { type Command, stringOption, usageError } from '../command.js';
import { EXIT } from '../io.js';
import { commandKernel } from '../mcp-common.js';
import { packageVersion } from '../version.js';

export const mcpServerCommand: Command = {
  name: 'mcp-server',
  usage: `agentk mcp-server [--policy FILE] [--trace-out FILE] [--max-message-bytes N] < session.jsonl

An MCP server (newline-delimited JSON-RPC on stdin/stdout) whose tools ask the kernel to
decide a tool call, a descriptor or a response; nothing is executed. Lifecycle:
initialize (version negotiated: 2024-11-05 to 2025-11-25), notifications/initialized,
ping; before that only initialize and ping are served. Batches are refused, ids bounded,
lines capped. The trace is sealed when stdin ends. Example: examples/mcp-server-session.jsonl`,
  options: {
    policy: { type: 'string' },
    'trace-out': { type: 'string' },
    'max-message-bytes': { type: 'string' },
  },
  positionals: [0, 0],
  async run(args, io) {
    const limitText = stringOption(args, 'max-message-bytes');
    const limit = limitText === undefined ? DEFAULT_MAX_MESSAGE_BYTES : Number(limitText);
    if (
      !/^\d+$/.test(limitText ?? '0') ||
      !Number.isSafeInteger(limit) ||
      limit < 1024 ||
      limit > 64 * 1024 * 1024
    ) {
      throw usageError('--max-message-bytes must be a whole number from 1024 to 67108864');
    }
    const kernel = commandKernel(args, io, 'mcp-server');
    const server = new AgentkMcpServer(kernel, packageVersion());
    const reply = (line: string | null) => {
      if (line !== null) io.stdout(`${line}\n`);
    };
    const reader = new LineReader(limit, {
      line: (text) => reply(server.handle(text)),
      oversize: (id, bytes) =>
        reply(
          errorLine(id, RPC.tooLarge, `message of ${bytes} bytes exceeds the ${limit}-byte limit`),
        ),
    });
    const input = io.stdin ?? new PassThrough().end();
    try {
      for await (const chunk of input) {
        reader.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      }
      reader.end();
    } finally {
      kernel.close();
    }
    return EXIT.ok;
  },
};
