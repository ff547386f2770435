import { describe, expect, it } from 'vitest';
import { loggable } from '../../src/kernel/loggable.js';

const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

describe('loggable', () => {
  it('keeps a short text as it is and clips a long one with a mark', () => {
    expect(loggable('fs/read_file', 64)).toBe('fs/read_file');
    expect(loggable('a'.repeat(100), 10)).toBe(`${'a'.repeat(10)}…`);
  });

  it('redacts a credential that the clip cuts, so no part of it is logged', () => {
    const target = `https://example.com/${'p'.repeat(40)}?t=${TOKEN}`;
    const logged = loggable(target, 70);
    expect(logged).not.toContain(TOKEN.slice(0, 6));
    expect(logged.endsWith('…')).toBe(true);
    expect(loggable(`x ${TOKEN}`, 512)).toBe('x [redacted-secret]');
  });
});
