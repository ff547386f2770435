// The red-team finding about numbers (issue 13: 14), through the proxy binary: an integer
// beyond 2^53 is never rounded in transit; the message that holds it is refused, clearly.

import { describe, expect, it } from 'vitest';
import { INEXACT_NUMBER, parseMessage } from '../../src/mcp/jsonrpc.js';
import { binarySession } from '../helpers/binary.js';
import { until } from '../helpers/proxy.js';

const BIG = '9876543210987654321';
const tools = [
  { name: 'delete_message', description: 'Delete a message.', inputSchema: { type: 'object' } },
  { name: 'list_messages', description: 'List the messages.', inputSchema: { type: 'object' } },
];

describe('integers beyond 2^53', () => {
  it('refuses a client request that holds one, and the server never sees it', async () => {
    const s = binarySession({
      'tools/list': { tools },
      'tools/call': { delete_message: { content: [{ type: 'text', text: 'deleted' }] } },
    });
    await s.initialize();
    await s.request('tools/list');
    s.send(
      `{"jsonrpc":"2.0","id":"del","method":"tools/call","params":{"name":"delete_message","arguments":{"id":${BIG}}}}`,
    );
    const refused = await s.waitFor((m) => m.id === 'del');
    await s.close();
    expect(refused.error).toEqual({ code: -32602, message: INEXACT_NUMBER });
    expect(s.received().some((line) => line.includes('delete_message'))).toBe(false);
  });

  it('refuses a server answer that holds one instead of passing it on rounded', async () => {
    const s = binarySession({
      'tools/list': { tools },
      'tools/call': {
        list_messages: {
          $raw: `{"content":[{"type":"text","text":"two messages"}],"structuredContent":{"ids":[${BIG},9876543210987654322]}}`,
        },
      },
    });
    await s.initialize();
    await s.request('tools/list');
    const answer = await s.request('tools/call', { name: 'list_messages', arguments: {} });
    await s.close();
    const error = answer.error as { code: number; message: string };
    expect(error.code).toBe(-32005);
    expect(error.message).toContain(INEXACT_NUMBER);
    expect(s.rawLines.join('\n')).not.toContain('9876543210987655000');
  });

  it('answers a server request that holds one with an error, and never relays it', async () => {
    const s = binarySession({
      'tools/list': { tools },
      after_initialized: [
        `{"jsonrpc":"2.0","id":"srv-1","method":"sampling/createMessage","params":{"maxTokens":${BIG},"messages":[]}}`,
      ],
    });
    await s.initialize({ sampling: {} });
    const refusal = () => s.received().find((line) => line.includes('"srv-1"'));
    await until(() => refusal() !== undefined);
    await s.request('tools/list');
    await s.close();
    expect(JSON.parse(refusal() as string)).toEqual({
      jsonrpc: '2.0',
      id: 'srv-1',
      error: { code: -32602, message: INEXACT_NUMBER },
    });
    expect(s.rawLines.some((line) => line.includes('sampling/createMessage'))).toBe(false);
  });
});

describe('parseMessage', () => {
  it('looks through a very large array without overflowing the stack', () => {
    const ids = Array.from({ length: 300_000 }, (_, i) => i);
    const line = `{"jsonrpc":"2.0","id":1,"result":{"note":"1234567890123456","ids":[${ids.join(',')},${BIG}]}}`;
    expect(parseMessage(line)).toMatchObject({ kind: 'invalid', reason: INEXACT_NUMBER, id: 1 });
  });
});
