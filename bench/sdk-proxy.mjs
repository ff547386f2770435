// The official-SDK proxy of the benchmarks: the do-nothing MCP proxy people write with
// @modelcontextprotocol/sdk. A `Server` over `StdioServerTransport` faces the client and
// forwards `tools/list` and `tools/call` through a `Client` over `StdioClientTransport` to
// the real server, unchanged. No record, no policy: it measures what the SDK's own framing,
// schema validation and request bookkeeping cost on each side.
//
// node bench/sdk-proxy.mjs COMMAND [ARGS...]

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [command, ...args] = process.argv.slice(2);
const upstream = new Client({ name: 'bench-sdk-proxy', version: '1' });
await upstream.connect(new StdioClientTransport({ command, args, env: process.env }));

const server = new Server(
  { name: 'bench-sdk-proxy', version: '1' },
  { capabilities: { tools: {} } },
);
server.setRequestHandler(ListToolsRequestSchema, (request) => upstream.listTools(request.params));
server.setRequestHandler(CallToolRequestSchema, (request) => upstream.callTool(request.params));

// The client hung up: close the server's side and leave.
process.stdin.on('end', async () => {
  await upstream.close();
  process.exit(0);
});
await server.connect(new StdioServerTransport());
