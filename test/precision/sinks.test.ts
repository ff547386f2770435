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
