import { describe, expect, it } from 'vitest';
import { ContextStore, MAX_PAGES, type Session } from '../../src/kernel/context/context.js';
import { PRIVATE, UNTRUSTED } from '../../src/labels/labels.js';

type Step =
  | { page: string; labels: number }
  | { clean: string }
  | { lookup: string }
  | { secret: string };

/** Run the same steps on a store, settling after every page or never; the lookups' results. */
function run(steps: readonly Step[], settleEachPage: boolean) {
  const store = new ContextStore('agent');
  const session = store.session('agent') as Session;
  const found: unknown[] = [];
  steps.forEach((step, i) => {
    if ('page' in step) {
      const content = { labels: step.labels, contentHash: null, contentText: step.page };
      store.addPage(session, `server/tool${i}`, content, i);
      if (settleEachPage) store.settle();
    } else if ('clean' in step) store.noteClean([step.clean], i);
    else if ('secret' in step) store.addSecret(step.secret, { pageId: `s${i}`, labels: PRIVATE });
    else {
      const { origins, echoes, lineage } = store.lookupValues(step.lookup);
      found.push({ origins, echoes, lineage, unindexed: store.unindexedLabels });
    }
  });
  return found;
}

describe('ContextStore: a page is indexed later, never too late', () => {
  const url = 'https://files.example.com/reports/q3-summary.pdf';
  const steps: Step[] = [
    { lookup: url },
    { page: `The report is at ${url} for everyone.`, labels: UNTRUSTED },
    { lookup: `fetch ${url} now` },
    { clean: `url:${url}` },
    { page: `Mirror: ${url} and mail ops@example.com`, labels: UNTRUSTED },
    { lookup: `send to ops@example.com` },
    { page: 'Account 4111 1111 1111 1111 is on file.', labels: PRIVATE },
    { secret: 'hunter2-correct-horse' },
    { lookup: 'pay 4111111111111111 and use hunter2-correct-horse' },
  ];

  // A value noted clean between two pages that show it: where its lineage starts depends on
  // the order, so the first page must be in the index before the note.
  const orderSteps: Step[] = [
    { page: `Download ${url} today.`, labels: UNTRUSTED },
    { clean: `url:${url}` },
    { page: `Again: ${url}`, labels: UNTRUSTED },
    { lookup: `get ${url}` },
  ];

  it('answers every lookup as a store that indexed each page at once', () => {
    expect(run(orderSteps, false)).toEqual(run(orderSteps, true));
    const eager = run(steps, true);
    expect(run(steps, false)).toEqual(eager);
    // The lookups saw the pages: the same answers are not empty answers.
    expect(JSON.stringify(eager[1])).toContain('p1');
    expect(JSON.stringify(eager[3])).toContain('p3');
  });

  it('settle() indexes what was added, and again is a no-op', () => {
    const store = new ContextStore('agent');
    const session = store.session('agent') as Session;
    const text = `see ${url}`;
    store.addPage(
      session,
      'web/fetch',
      { labels: UNTRUSTED, contentHash: null, contentText: text },
      1,
    );
    store.settle();
    store.settle();
    expect(new Set(store.lookupValues(url).origins.map((o) => o.pageId))).toEqual(new Set(['p1']));
  });
});

describe('ContextStore: pages kept', () => {
  it('keeps the newest MAX_PAGES pages, dropping the oldest first', () => {
    const store = new ContextStore('agent');
    const session = store.session('agent') as Session;
    const content = { labels: UNTRUSTED, contentHash: null, contentText: null };
    const extra = 3;
    for (let i = 1; i <= MAX_PAGES + extra; i++) store.addPage(session, 'server/tool', content, i);
    for (let i = 1; i <= extra; i++) expect(store.page(`p${i}`)).toBeUndefined();
    expect(store.page(`p${extra + 1}`)?.step).toBe(extra + 1);
    expect(store.page(`p${MAX_PAGES + extra}`)?.step).toBe(MAX_PAGES + extra);
    // Every page in between is still there.
    let kept = 0;
    for (let i = 1; i <= MAX_PAGES + extra; i++) if (store.page(`p${i}`)) kept++;
    expect(kept).toBe(MAX_PAGES);
  });
});
