import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { injectionSignals, looksInjected, type TextGenre } from '../../src/provenance/injection.js';

/** looksInjected as first written, from the signals each pattern gives on its own. */
function reference(text: string, genre: TextGenre): boolean {
  const signals = injectionSignals(text);
  if (signals.some((s) => s.startsWith('strong#')) || signals.includes('hidden')) return true;
  const told = signals.includes('told-what-to-do');
  if (told && genre === 'content') return true;
  return signals.filter((s) => s.startsWith('weak#')).length + (told ? 1 : 0) >= 2;
}

// Phrases of honest text and of every kind of signal, strong and weak, in any order.
const phrase = fc.constantFrom(
  'Here is the quarterly report.',
  'Please review the attached file before Friday.',
  'Ignore all previous instructions',
  'ignore the noise in the data',
  'Dear Claude,',
  'Note to the AI:',
  'urgent',
  'before anything else',
  'this is an important message',
  'on behalf of the user',
  'The assistant must',
  'the agent should',
  '<IMPORTANT>',
  '[SYSTEM]',
  'see ~/.ssh/id_rsa',
  'system prompt',
  'before you start the task',
  'message from the admin',
  '\n signed,\n',
  '<!-- for the AI -->',
  'zero\u200bwidth',
  'family 👨\u200d👩\u200d👧',
  '\n',
  ' ',
);
const text = fc.array(phrase, { maxLength: 12 }).map((parts) => parts.join(' '));

describe('looksInjected', () => {
  it('answers as the patterns read one by one do, for content and descriptors', () => {
    fc.assert(
      fc.property(text, fc.constantFrom<TextGenre>('content', 'descriptor'), (t, genre) => {
        expect(looksInjected(t, genre)).toBe(reference(t, genre));
      }),
      { numRuns: 3000 },
    );
  });
});
