// The trivial MCP server of the benchmarks over Streamable HTTP: the official SDK's
// McpServer behind its StreamableHTTPServerTransport, one transport per MCP session, with
// the `lookup` tool answering at once (JSON responses, no SSE). Prints `listening PORT`.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const sessions = new Map();

function serverForSession() {
  const server = new McpServer({ name: 'bench-http', version: '1' });
  server.registerTool(
    'lookup',
    {
      description: 'Look up a word.',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => ({ content: [{ type: 'text', text: 'kernel: the core of an operating system' }] }),
  );
  return server;
}

const http = createServer(async (request, response) => {
  const id = request.headers['mcp-session-id'];
  let transport = typeof id === 'string' ? sessions.get(id) : undefined;
  if (transport === undefined) {
    if (id !== undefined) return response.writeHead(404).end();
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: true,
      onsessioninitialized: (sessionId) => sessions.set(sessionId, transport),
    });
    transport.onclose = () => sessions.delete(transport.sessionId);
    await serverForSession().connect(transport);
  }
  await transport.handleRequest(request, response);
});
http.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${http.address().port}\n`);
});
