// The trivial MCP server of the benchmarks: answers every tools/call at once with a short
// text, so that a round trip measures the path to it, not the work behind it.
import { createInterface } from 'node:readline';

const out = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

// `trivial-server.mjs N`: each answer is about N bytes of prose, as a page or a document
// would be (words and short numbers that differ from call to call), instead of a short word.
const ANSWER_BYTES = Number(process.argv[2] ?? 0);
const WORDS =
  'the kernel reads each page and records what it saw before the model acts on it'.split(' ');
function answerText(n) {
  if (ANSWER_BYTES === 0) return `ok ${n ?? ''}`;
  const parts = [];
  let size = 0;
  for (let i = 0; size < ANSWER_BYTES; i++) {
    // Short numbers that differ from call to call: new text each time, but not values the
    // index tracks (a long number, a path, an address), which a page has a few of at most.
    const word =
      i % 7 === 6 ? `${((n ?? 0) * 31 + i) % 100_000}` : WORDS[(i * 5 + (n ?? 0)) % WORDS.length];
    parts.push(i % 12 === 11 ? `${word}.\n` : word);
    size += word.length + 1;
  }
  return parts.join(' ');
}
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
    result: { content: [{ type: 'text', text: answerText(params?.arguments?.n) }] },
  });
});
