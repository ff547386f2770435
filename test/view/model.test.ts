// The viewer's model and page, without a browser: the banner's data comes from the same
// verification as `agentk verify-signatures` (same status, line and code), the events and
// provenance from the review code, and the page embeds it all inertly under a strict CSP.

import { describe, expect, it } from 'vitest';
import { verifySignaturesFile } from '../../src/evidence/verify-signatures.js';
import { CompiledPolicy } from '../../src/policy/compile.js';
import { readReviewedLog } from '../../src/review/log.js';
import { explainStep, refusedSteps } from '../../src/review/why.js';
import { decodeRows } from '../../src/view/columns.js';
import { buildViewModel } from '../../src/view/model.js';
import { embeddedJson, renderPage } from '../../src/view/page.js';
import { DEFAULT_POLICY, policyAt } from '../helpers/kernel.js';
import {
  demoTrace,
  hostileTrace,
  longTrace,
  PAYLOADS,
  tamperedCopy,
  unsealedCopy,
} from '../helpers/view.js';

const options = {
  policy: { path: DEFAULT_POLICY, policy: new CompiledPolicy(policyAt(DEFAULT_POLICY)) },
};

describe('the view model', () => {
  it('describes the demo trace: verified, every event, why each refusal came about', async () => {
    const trace = await demoTrace();
    const model = buildViewModel(trace, options);
    expect(model.verification.status).toBe('verified');
    expect(model.verification.headline).toMatch(/^11 events, hash chain intact, sealed/);
    expect(decodeRows(model.events).map((event) => event.step)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    ]);
    expect(decodeRows(model.events).map((event) => event.verdict)).toEqual([
      'allow',
      'allow',
      'allow',
      'ask',
      'allow',
      'approved',
      'deny',
      'allow',
      'deny',
      'deny',
      'allow',
    ]);
    expect(model.summary.by_verdict).toEqual({ allow: 6, deny: 3, ask: 1, approved: 1 });
    expect(model.summary.blocked.map((item) => item.step)).toEqual([4, 7, 9, 10]);
    expect(model.summary.tools).toEqual({ 'shell/exec': 1 });
    // The shell command the page steered came from the page read at step 2 (as `agentk why` says).
    const shell = model.provenance.find((item) => item.step === 10);
    expect(shell?.origins[0]).toMatchObject({ argument: 'command', step: 2 });
    expect(shell?.origins[0]?.source).toBe('context.read https://acme.example/pricing');
  });

  it('gives each refusal the provenance agentk why gives it, one step at a time', async () => {
    for (const trace of [await demoTrace(), await longTrace(60)]) {
      const model = buildViewModel(trace, options);
      const log = readReviewedLog(trace);
      const refused = refusedSteps(log);
      expect(model.provenance.map((item) => item.step)).toEqual(refused.map((e) => e.step));
      for (const [i, event] of refused.entries()) {
        const alone = explainStep(log, event, options.policy, false);
        expect(model.provenance[i]).toEqual({
          step: alone.step,
          origins: alone.origins,
          session_origins: alone.session_origins,
          matched: alone.matched,
          hard: alone.hard,
          approve: alone.approve,
        });
      }
    }
  });

  it('shows a tampered log as failing at the line verify-signatures names, and nothing after', async () => {
    const tampered = tamperedCopy(await demoTrace(), 5);
    const model = buildViewModel(tampered, options);
    const { chain } = verifySignaturesFile(tampered);
    expect(chain.ok).toBe(false);
    expect(model.verification.status).toBe('failed');
    expect(model.verification.failure).toMatchObject({
      line: 5,
      code: (chain as { code: string }).code,
      later_lines: 7,
    });
    expect(model.verification.failure?.excerpt).toContain('"step":5');
    expect(decodeRows(model.events).map((event) => event.step)).toEqual([1, 2, 3, 4]);
    expect(model.sealed_at).toBeNull();
  });

  it('shows a log without its seal as unsealed, never as verified', async () => {
    const model = buildViewModel(unsealedCopy(await demoTrace()), options);
    expect(model.verification.status).toBe('unsealed');
    expect(model.verification.headline).toMatch(/^11 events intact, but the log has no seal/);
    expect(model.events.rows.step).toHaveLength(11);
  });
});

describe('the page', () => {
  it('embeds hostile strings as inert JSON and allows only its own script and style', async () => {
    const model = buildViewModel(await hostileTrace(), options);
    expect(model.verification.status).toBe('verified');
    const { html, csp } = renderPage(model);
    for (const payload of PAYLOADS) expect(html).not.toContain(payload);
    // Exactly three script elements: the data block, the details block and the page's own.
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html.match(/<\/script/gi)).toHaveLength(3);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(html).toContain(`content="${csp}"`);
  });

  it('escapes what could end a script block or break a line in JSON', () => {
    const text = embeddedJson({ a: '</script><!--&\u2028\u2029>' });
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual({ a: '</script><!--&\u2028\u2029>' });
  });
});
