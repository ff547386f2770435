// Live mode's model without a browser: rows appended to a log are verified by continuing
// the chain and sent as rows after those a page holds; a rewritten or cut file, or a last
// line that stays cut, sends the whole model again.

import {
  appendFileSync,
  closeSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompiledPolicy } from '../../src/policy/compile.js';
import { LiveModel } from '../../src/view/live-model.js';
import { PREFIX_BLOCK, PREFIX_BUDGET, PrefixDigests } from '../../src/view/prefix.js';
import { DEFAULT_POLICY, policyAt } from '../helpers/kernel.js';
import { demoTrace, scratchDir } from '../helpers/view.js';

const options = {
  policy: { path: DEFAULT_POLICY, policy: new CompiledPolicy(policyAt(DEFAULT_POLICY)) },
};

/** The demo's lines, and a log holding its first `count`. */
async function growingLog(count: number): Promise<{ lines: string[]; path: string }> {
  const lines = readFileSync(await demoTrace(), 'utf8')
    .split('\n')
    .filter((line) => line !== '');
  const path = join(scratchDir(), 'live.jsonl');
  writeFileSync(path, `${lines.slice(0, count).join('\n')}\n`);
  return { lines, path };
}

const parsed = (json: string) => JSON.parse(json) as Record<string, unknown>;

describe('the live model', () => {
  it('sends only the rows appended, continuing the chain, then the seal as verified', async () => {
    const { lines, path } = await growingLog(4);
    const live = new LiveModel(path, options);
    expect(live.model().verification.status).toBe('unsealed');
    expect(live.changes()).toBeNull();
    const seal = lines.findIndex((line) => line.includes('"type":"seal"'));
    appendFileSync(path, `${lines.slice(4, seal).join('\n')}\n`);
    const rows = live.changes();
    expect(rows?.event).toBe('rows');
    const sent = parsed(rows?.json as string) as {
      from: number;
      events: { rows: { step: number[] }; details: string[] };
      verification: { status: string };
    };
    expect(sent.from).toBe(4);
    expect(sent.events.rows.step).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(sent.events.details).toHaveLength(7);
    expect(sent.verification.status).toBe('unsealed');
    appendFileSync(path, `${lines.slice(seal).join('\n')}\n`);
    const sealed = parsed(live.changes()?.json as string) as {
      from: number;
      events: { rows: { step: number[] } };
      verification: { status: string };
    };
    expect(sealed.from).toBe(11);
    expect(sealed.events.rows.step).toEqual([]);
    expect(sealed.verification.status).toBe('verified');
    // A page of this build holding 4 rows is sent the other 7; one of another build, all.
    expect(parsed(live.resume(live.generation, 4).json).from).toBe(4);
    expect(live.resume(live.generation + 1, 4).event).toBe('model');
  });

  it('sends the whole model again when the file is rewritten or cut', async () => {
    const { lines, path } = await growingLog(6);
    const live = new LiveModel(path, options);
    const generation = live.generation;
    writeFileSync(path, `${lines.slice(0, 3).join('\n')}\n`);
    const cut = live.changes();
    expect(cut?.event).toBe('model');
    const whole = parsed(cut?.json as string) as {
      generation: number;
      model: { events: { rows: { step: number[] } } };
    };
    expect(whole.model.events.rows.step).toEqual([1, 2, 3]);
    expect(whole.generation).not.toBe(generation);
    // The same length, another last line: a rewrite too.
    const tampered = lines[2]?.replace('"step":3', '"step":3 ') as string;
    writeFileSync(
      path,
      `${lines.slice(0, 2).join('\n')}\n${tampered.slice(0, lines[2]?.length)}\n`,
    );
    expect(live.changes()?.event).toBe('model');
  });

  it('waits for a cut last line to be finished; one that stays cut is shown failing', async () => {
    const { lines, path } = await growingLog(4);
    const live = new LiveModel(path, options);
    const next = lines[4] as string;
    appendFileSync(path, next.slice(0, 40));
    // Looked at again and again while cut: nothing to send until it stays cut.
    const looks = [live.changes(), live.changes(), live.changes(), live.changes()];
    expect(looks).toEqual([null, null, null, null]);
    const torn = live.changes();
    expect(torn?.event).toBe('model');
    expect(
      (parsed(torn?.json as string) as { model: { verification: { failure: { code: string } } } })
        .model.verification.failure.code,
    ).toBe('torn-tail');
    // Finished after all: read again from the start, the whole model with the line.
    appendFileSync(path, `${next.slice(40)}\n`);
    const finished = parsed(live.changes()?.json as string) as {
      model: { events: { rows: { step: number[] } }; verification: { status: string } };
    };
    expect(finished.model.events.rows.step).toEqual([1, 2, 3, 4, 5]);
    expect(finished.model.verification.status).toBe('unsealed');
  });

  it('sees a line it verified change while the log grows, and says the log was tampered with', async () => {
    const { lines, path } = await growingLog(4);
    const live = new LiveModel(path, options);
    // Line 2 changed in place (one byte of its target), then the log grows by a line.
    const fd = openSync(path, 'r+');
    const at = (lines[0]?.length as number) + 1 + (lines[1] as string).indexOf('"target":"') + 10;
    writeSync(fd, 'X', at);
    closeSync(fd);
    appendFileSync(path, `${lines[4]}\n`);
    const message = live.changes();
    expect(message?.event).toBe('model');
    const { verification } = (
      parsed(message?.json as string) as {
        model: { verification: { status: string; headline: string; tampered: { line: number } } };
      }
    ).model;
    expect(verification.status).toBe('failed');
    expect(verification.tampered).toEqual({ line: 2 });
    expect(verification.headline).toMatch(
      /^the log changed under the viewer: line 2, verified before/,
    );
    // Said for good: the log read again does not make it clean.
    expect(live.model().verification.tampered).toEqual({ line: 2 });
  });

  it('compares a long prefix a bounded number of bytes a look, and finds a change at its end', () => {
    const path = join(scratchDir(), 'long.txt');
    const line = Buffer.from(`${'a'.repeat(1023)}`);
    const count = Math.ceil((2.5 * PREFIX_BUDGET) / 1024);
    writeFileSync(path, `${`${line.toString()}\n`.repeat(count)}`);
    const prefix = new PrefixDigests();
    for (let i = 0; i < count; i += 1) prefix.line(line);
    expect(prefix.fed).toBe(count * 1024);
    // Nothing changed: a sweep takes three looks, then none runs.
    prefix.changed();
    expect([prefix.check(path), prefix.check(path), prefix.check(path)]).toEqual([
      null,
      null,
      null,
    ]);
    // A byte near the end: two looks find nothing yet, the third finds its block's line.
    const fd = openSync(path, 'r+');
    writeSync(fd, 'b', count * 1024 - 10);
    closeSync(fd);
    prefix.changed();
    expect(prefix.check(path)).toBeNull();
    expect(prefix.check(path)).toBeNull();
    const found = prefix.check(path) as number;
    const blockStart = Math.floor((count * 1024 - 10) / PREFIX_BLOCK) * PREFIX_BLOCK;
    expect(found).toBe(Math.floor(blockStart / 1024) + 1);
  });
});
