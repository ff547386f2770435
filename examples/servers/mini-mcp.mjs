// A minimal MCP server over stdio (newline-delimited JSON-RPC), with no dependencies, for
// the demo and fault-injection servers in this folder. Not a general implementation.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * tools: [{ name, description, inputSchema, annotations, call(args) -> result | {error} }]
 * options.callLog: a file to which each tools/call is appended as one JSON line.
 */
export function serve({ name, tools = [], resources = [], prompts = [], onRequest }) {
  const callLog = process.env.AGENTK_DEMO_CALL_LOG;
  const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const rl = createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return;
    }
    const { id, method, params } = message;
    if (id === undefined) return; // notifications
    if (onRequest) {
      const handled = await onRequest(message, send);
      if (handled) return;
    }
    const reply = (result) => send({ jsonrpc: '2.0', id, result });
    const fail = (code, text) => send({ jsonrpc: '2.0', id, error: { code, message: text } });
    switch (method) {
      case 'initialize':
        return reply({
          protocolVersion: params?.protocolVersion ?? '2025-06-18',
          capabilities: { tools: {}, resources: {}, prompts: {} },
          serverInfo: { name, version: '1.0.0' },
        });
      case 'ping':
        return reply({});
      case 'tools/list':
        return reply({
          tools: tools.map(({ call: _call, ...descriptor }) => descriptor),
        });
      case 'tools/call': {
        if (callLog) {
          appendFileSync(callLog, `${JSON.stringify({ tool: params?.name, params })}\n`);
        }
        const tool = tools.find((candidate) => candidate.name === params?.name);
        if (!tool) return fail(-32602, `Unknown tool: ${params?.name}`);
        const result = await tool.call(params?.arguments ?? {});
        if (result?.error) return send({ jsonrpc: '2.0', id, error: result.error });
        return reply(result);
      }
      case 'resources/list':
        return reply({ resources: resources.map(({ read: _read, ...r }) => r) });
      case 'resources/read': {
        const resource = resources.find((r) => r.uri === params?.uri);
        if (!resource) return fail(-32002, 'Resource not found');
        return reply({ contents: [{ uri: resource.uri, text: resource.read() }] });
      }
      case 'prompts/list':
        return reply({ prompts: prompts.map(({ get: _get, ...p }) => p) });
      case 'prompts/get': {
        const prompt = prompts.find((p) => p.name === params?.name);
        if (!prompt) return fail(-32602, 'Unknown prompt');
        return reply({ messages: prompt.get(params?.arguments ?? {}) });
      }
      default:
        return fail(-32601, `Method not found: ${method}`);
    }
  });
}

export const text = (value) => ({ content: [{ type: 'text', text: value }] });
