// A tool that neither its annotations nor its name classify (issue 14, item 4) is judged by
// its input schema before it counts as everything: a denial then names the rule that applies.

import { describe, expect, it } from 'vitest';
import { memoryKernel } from '../helpers/kernel.js';

describe('a tool nothing else classifies', () => {
  const describeTool = (properties: Record<string, unknown>) => {
    const { kernel } = memoryKernel();
    kernel.syscall({
      kind: 'tool.describe',
      target: 'travel/reserve_hotel',
      descriptor: { name: 'reserve_hotel', inputSchema: { type: 'object', properties } },
    });
    return kernel.syscall({
      kind: 'tool.invoke',
      target: 'travel/reserve_hotel',
      args: { hotel: 'Le Marais Boutique' },
    });
  };

  it('is no shell when no argument is named like code', () => {
    const call = describeTool({ hotel: { type: 'string' }, start_day: { type: 'string' } });
    expect(call.sinks).toEqual(['write', 'egress', 'destructive']);
  });

  it('may execute what an argument named like a command carries', () => {
    const call = describeTool({ hotel: { type: 'string' }, command: { type: 'string' } });
    expect(call.sinks).toContain('exec');
  });

  it('counts as everything when it was never described', () => {
    const { kernel } = memoryKernel();
    const call = kernel.syscall({ kind: 'tool.invoke', target: 'travel/reserve_hotel', args: {} });
    expect(call.sinks).toContain('exec');
  });
});

describe('what a tool name and description say it does', () => {
  const sinksOf = (name: string, description?: string) => {
    const { kernel } = memoryKernel();
    const target = `acme/${name}`;
    kernel.syscall({
      kind: 'tool.describe',
      target,
      descriptor: { name, description, inputSchema: { type: 'object', properties: {} } },
    });
    return kernel.syscall({ kind: 'tool.invoke', target, args: {} }).sinks;
  };

  it('a search through the user own stores only reads; a search of the web leaves', () => {
    expect(sinksOf('search_files_by_filename')).toEqual(['read']);
    expect(sinksOf('search_emails')).toEqual(['read']);
    expect(sinksOf('searchNodes')).toEqual(['read']);
    expect(sinksOf('search_web')).toEqual(['read', 'egress']);
    expect(sinksOf('lookup')).toEqual(['read', 'egress']);
    // A search that also sends is still a send.
    expect(sinksOf('search_and_send_files')).toContain('egress');
  });

  it('a description that declares a state change makes the read a write', () => {
    const marks = 'Returns the unread emails. The emails are marked as read after this call.';
    expect(sinksOf('get_unread_emails', marks)).toEqual(['read', 'write']);
    expect(sinksOf('get_unread_emails', 'Marks each message as seen.')).toEqual(['read', 'write']);
    expect(sinksOf('get_unread_emails', 'Returns the unread emails.')).toEqual(['read']);
    // "mark" in another sense is no state change.
    expect(sinksOf('list_tags', 'Tags mark points in history as releases.')).toEqual(['read']);
  });

  it('a description never narrows a tool nothing else classifies', () => {
    const { kernel } = memoryKernel();
    kernel.syscall({
      kind: 'tool.describe',
      target: 'acme/triage',
      descriptor: { name: 'triage', description: 'Messages are marked as done.' },
    });
    const call = kernel.syscall({ kind: 'tool.invoke', target: 'acme/triage', args: {} });
    expect(call.sinks).toEqual(['write', 'exec', 'egress', 'destructive']);
  });
});
