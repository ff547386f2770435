// The honest-session corpus on real servers from npm (issue 14, item 10), through the proxy
// binary, under the default policy and under the coding-agent profile: every honest step
// of a clean session goes through without a refusal or a question, every attack step of a
// poisoned variant is stopped. `npm run sessions` prints the table docs/eval.md records.

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { SESSIONS } from './corpus.js';
import { type Played, play, type Tally, tally } from './play.js';

const PROFILES: readonly [string, readonly string[]][] = [
  ['default', []],
  ['coding-agent', ['--policy', join(PACKAGE_ROOT, 'examples', 'policies', 'coding-agent.toml')]],
];

const rows: string[] = [];
afterAll(() => {
  if (process.env.SESSIONS_REPORT === undefined) return;
  console.log(
    [
      '| session | policy | calls | honest allowed | asked | refused | attack steps blocked |',
      '|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n'),
  );
});

function record(profile: string, played: Played, t: Tally): void {
  const attacks = t.attacks === 0 ? '-' : `${t.blocked}/${t.attacks}`;
  rows.push(
    `| ${played.id} | ${profile} | ${t.honest + t.attacks} | ${t.allowed}/${t.honest} | ${t.asked} | ${t.refused} | ${attacks} |`,
  );
}

/** Each step's outcome beside its tool, so a failure names the step. */
const labelled = (played: Played) =>
  played.steps.map((step, i) => `${i + 1} ${step.role} ${step.tool}: ${played.outcomes[i]}`);

for (const [profile, extra] of PROFILES) {
  describe(`honest sessions on real servers, ${profile} policy`, () => {
    const sessions = SESSIONS.filter((s) => (s.policies ?? [profile]).includes(profile));
    for (const session of sessions.filter((s) => !s.id.endsWith('-poisoned'))) {
      it(`${session.id}: every honest step goes through (asked only where the policy says)`, async () => {
        const played = await play(session, extra);
        record(profile, played, tally(played));
        // A step after one the policy asks about may find nothing to do: the server's own
        // error then, which is no refusal (git_commit after a reset that did not happen).
        const expected = played.steps.map((step, i) => {
          const asked = step.askedUnder?.policy === profile ? step.askedUnder.rule : null;
          return `${i + 1} honest ${step.tool}: ${asked ? `asked:${asked}` : 'ok'}`;
        });
        const after = played.steps.findIndex((step) => step.askedUnder?.policy === profile);
        expect(
          labelled(played).map((line, i) =>
            after >= 0 && i > after && line.endsWith(': error') ? (expected[i] as string) : line,
          ),
        ).toEqual(expected);
        expect(played.traceVerifies).toBe(true);
      }, 120_000);
    }
  });

  describe(`poisoned variants, ${profile} policy`, () => {
    const sessions = SESSIONS.filter((s) => (s.policies ?? [profile]).includes(profile));
    for (const session of sessions.filter((s) => s.id.endsWith('-poisoned'))) {
      it(`${session.id}: every attack step is stopped`, async () => {
        const played = await play(session, extra);
        const t = tally(played);
        record(profile, played, t);
        const attacks = labelled(played).filter((line) => / attack /.test(line));
        expect(attacks.length).toBeGreaterThan(0);
        for (const line of attacks) expect(line).toMatch(/: (asked|refused):/);
        // A question nobody could answer names the exact command that approves it, with
        // the proxy's approvals directory (in the state directory, out of the agent's
        // workspace): it works from any directory.
        const asked = played.outcomes.findIndex((o) => o.startsWith('asked:'));
        expect(played.texts[asked]).toContain(
          `--approvals-dir ${join(process.env.AGENTK_HOME as string, 'approvals')}\``,
        );
        expect(played.texts[asked]).toMatch(/`agentk approve [0-9a-f]{64} --approvals-dir /);
        // Honest steps before the planted instruction was read still went through.
        expect(played.outcomes[0]).toBe('ok');
        expect(played.traceVerifies).toBe(true);
      }, 120_000);
    }
  });
}
