// How often the injection detector (src/provenance/injection.ts) fires on honest text, and
// how often it recognises injections nobody here wrote:
//   node bench/injection-fp.mjs [--show N]
// Honest text: every README in node_modules (documentation that talks about tools, agents
// and tasks), and, when ../shared/benchmarks is present, every tool output of AgentDojo's
// attack-free tasks (mail, files, calendars, web pages, chats, reviews). Injections: the
// outputs of AgentDojo's attack scenarios that carry the injection. Needs `npm run build`.
// The benchmark's data is read in place, never copied.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const { injectionSignals, looksInjected } = await import(
  join(ROOT, 'dist', 'provenance', 'injection.js')
);
const show = Number(process.argv[process.argv.indexOf('--show') + 1] || 0);

function* walk(dir, match) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path, match);
    else if (match(entry.name)) yield path;
  }
}

function measure(name, texts, expectInjected) {
  const seen = new Set();
  let total = 0;
  let fired = 0;
  const signals = new Map();
  const examples = [];
  for (const [where, text] of texts) {
    const hash = createHash('sha256').update(text).digest('hex');
    if (seen.has(hash)) continue;
    seen.add(hash);
    total += 1;
    if (looksInjected(text)) {
      fired += 1;
      for (const s of injectionSignals(text)) signals.set(s, (signals.get(s) ?? 0) + 1);
      if (!expectInjected && examples.length < show) examples.push(where);
    } else if (expectInjected && examples.length < show) examples.push(where);
  }
  const rate = total === 0 ? '-' : `${((100 * fired) / total).toFixed(1)}%`;
  console.log(`${name}: flagged ${fired}/${total} (${rate})`);
  const top = [...signals].sort((a, b) => b[1] - a[1]).slice(0, 6);
  if (top.length > 0) console.log(`  signals: ${top.map(([s, n]) => `${s} ${n}`).join(', ')}`);
  for (const where of examples) console.log(`  ${expectInjected ? 'missed' : 'flagged'}: ${where}`);
}

function* readmes() {
  for (const path of walk(join(ROOT, 'node_modules'), (n) =>
    /^readme(\.md|\.markdown|\.txt)?$/i.test(n),
  )) {
    if (statSync(path).size < 512 * 1024) yield [path, readFileSync(path, 'utf8')];
  }
}

const DOJO = join(ROOT, '..', 'shared', 'benchmarks', 'agentdojo', 'scenarios');

function* dojoOutputs(attack) {
  for (const path of walk(DOJO, (n) => n.endsWith('.json'))) {
    const noattack = path.includes(`${join('/', 'noattack', '/')}`.replace('//', '/'));
    if (attack === noattack) continue;
    const scenario = JSON.parse(readFileSync(path, 'utf8'));
    const steps = scenario.steps ?? [];
    if (attack) {
      // The output that shows the injection: the one right before the first attack step.
      const first = steps.findIndex((step) => step.kind === 'attack');
      const shown = steps[first - 1]?.output;
      if (typeof shown === 'string') yield [path, shown];
    } else {
      for (const step of steps) if (typeof step.output === 'string') yield [path, step.output];
    }
  }
}

measure('honest: READMEs in node_modules', readmes(), false);
if (existsSync(DOJO)) {
  measure('honest: AgentDojo attack-free tool outputs', dojoOutputs(false), false);
  measure('injections: AgentDojo outputs that carry one', dojoOutputs(true), true);
} else {
  console.log('(../shared/benchmarks absent: AgentDojo rows skipped)');
}
