// What the trivial MCP server of the benchmarks answers (trivial-server.mjs), as a function
// of the request, so that a benchmark that drives a proxy session in process
// (session-cpu.mjs) gets the very answers the server process would give.

const WORDS =
  'the kernel reads each page and records what it saw before the model acts on it'.split(' ');

/**
 * The text of the answer to call `n`: a short word, or with `answerBytes` about that many
 * bytes of prose, as a page or a document would be (words and short numbers that differ
 * from call to call).
 */
export function answerText(n, answerBytes) {
  if (!answerBytes) return `ok ${n ?? ''}`;
  const parts = [];
  let size = 0;
  for (let i = 0; size < answerBytes; i++) {
    // Short numbers that differ from call to call: new text each time, but not values the
    // index tracks (a long number, a path, an address), which a page has a few of at most.
    const word =
      i % 7 === 6 ? `${((n ?? 0) * 31 + i) % 100_000}` : WORDS[(i * 5 + (n ?? 0)) % WORDS.length];
    parts.push(i % 12 === 11 ? `${word}.\n` : word);
    size += word.length + 1;
  }
  return parts.join(' ');
}

/**
 * The answer to one request (undefined for a notification). `tools` > 0 lists that many
 * tools whose descriptions name a helper and a sibling (a large catalogue) instead of one.
 */
export function answerTo({ id, method, params }, { answerBytes = 0, tools = 0 } = {}) {
  if (id === undefined) return undefined;
  if (method === 'initialize') {
    return {
      jsonrpc: '2.0',
      id,
      result: {
        protocolVersion: params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: 'bench', version: '1' },
      },
    };
  }
  if (method === 'tools/list' && tools > 0) {
    const list = Array.from({ length: tools }, (_, i) => ({
      name: `tool_${i}`,
      description: `Does task ${i} of the workspace, with files.read and the options it takes.`,
      inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
    }));
    return { jsonrpc: '2.0', id, result: { tools: list } };
  }
  if (method === 'tools/list') {
    const lookup = {
      name: 'lookup',
      description: 'Look up a word.',
      inputSchema: { type: 'object' },
      annotations: { readOnlyHint: true, openWorldHint: false },
    };
    return { jsonrpc: '2.0', id, result: { tools: [lookup] } };
  }
  const text = answerText(params?.arguments?.n, answerBytes);
  return { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } };
}
