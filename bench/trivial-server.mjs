// The trivial MCP server of the benchmarks: answers every tools/call at once with a short
// text, so that a round trip measures the path to it, not the work behind it.
import { createInterface } from 'node:readline';

const out = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, method, params } = JSON.parse(line);
  if (id === undefined) return;
  if (method === 'initialize') {
    return out({
      jsonrpc: '2.0',
      id,
      result: {
        protocolVersion: params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: 'bench', version: '1' },
      },
    });
  }
  if (method === 'tools/list') {
    return out({
      jsonrpc: '2.0',
      id,
      result: {
        tools: [
          {
            name: 'lookup',
            description: 'Look up a word.',
            inputSchema: { type: 'object' },
            annotations: { readOnlyHint: true, openWorldHint: false },
          },
        ],
      },
    });
  }
  out({
    jsonrpc: '2.0',
    id,
    result: { content: [{ type: 'text', text: `ok ${params?.arguments?.n ?? ''}` }] },
  });
});
