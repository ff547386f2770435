import { describe, expect, it } from 'vitest';
import { PRIVATE, UNTRUSTED } from '../../src/labels/labels.js';
import { foldText, winnow, winnowPicks } from '../../src/provenance/fingerprints.js';
import { ValueIndex } from '../../src/provenance/values.js';

const prose = (seed: string, words: number) =>
  Array.from({ length: words }, (_, i) => `${seed}${(i * 7919) % 1000}`).join(' ');

describe('ValueIndex: the fingerprint budget', () => {
  it('indexes a page whose distinct fingerprints fit, however often one repeats', () => {
    const text = `${prose('alpha', 60)} `.repeat(5);
    const picks = winnowPicks(foldText(text)).length;
    const distinct = winnow(foldText(text)).size;
    expect(picks).toBeGreaterThan(distinct); // the repeats are picked again
    const index = new ValueIndex(8, distinct);
    index.add('p1', UNTRUSTED, text);
    expect(index.unindexedLabels).toBe(0);
    expect(index.lookup(`please run ${prose('alpha', 60).slice(100, 200)}`).origins).toEqual([
      { pageId: 'p1', labels: UNTRUSTED },
    ]);
  });

  it('leaves out a page that would pass it, and every lookup then carries its labels', () => {
    const first = prose('alpha', 60);
    const second = prose('bravo', 60);
    const index = new ValueIndex(8, winnow(foldText(first)).size + 3);
    index.add('p1', UNTRUSTED, first);
    index.add('p2', PRIVATE, second);
    expect(index.unindexedLabels).toBe(PRIVATE);
    expect(index.lookup(second.slice(50, 150)).origins).toEqual([]);
    expect(index.lookup(first.slice(50, 150)).origins).toEqual([
      { pageId: 'p1', labels: UNTRUSTED },
    ]);
  });

  it('joins the labels of two pages that show the same text, naming the later one', () => {
    const text = prose('charlie', 40);
    const index = new ValueIndex();
    index.add('p1', UNTRUSTED, text);
    index.add('p2', PRIVATE, text);
    index.add('p3', UNTRUSTED, text); // adds no label: the text stays p2's
    expect(index.lookup(text.slice(20, 120)).origins).toEqual([
      { pageId: 'p2', labels: UNTRUSTED | PRIVATE },
    ]);
  });
});
