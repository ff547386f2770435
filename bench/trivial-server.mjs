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
  if (method === 'tools/list' && process.env.BENCH_TOOLS) {
    // A large catalogue: BENCH_TOOLS tools whose descriptions name a helper and a sibling.
    const count = Number(process.env.BENCH_TOOLS);
    const tools = Array.from({ length: count }, (_, i) => ({
      name: `tool_${i}`,
      description: `Does task ${i} of the workspace, with files.read and the options it takes.`,
      inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
    }));
    return out({ jsonrpc: '2.0', id, result: { tools } });
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
