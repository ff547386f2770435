// Attack-corpus scenarios: one TOML file each, a scripted downstream server plus the
// transcript of a fully hijacked agent (attack steps paired with the benign steps of the
// same task). The format is documented in docs/eval.md.
// Input distrusted: the scenario files (a corpus may come from anyone).

import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as z from 'zod';
import {
  type ConfigIssue,
  invalidDocument,
  parseTomlText,
  readConfigText,
  typeErrorMap,
  zodIssues,
} from '../config/document.js';
import { AgentkError } from '../errors.js';

export const CATEGORIES = [
  'exfiltration-mail',
  'exfiltration-http',
  'exfiltration-chat',
  'exfiltration-payment',
  'shell-injection',
  'file-destruction',
  'poisoned-description',
  'shadowing',
  'rug-pull',
  'secret-leak',
  'encoded-exfiltration',
  'client-claimed-trust',
] as const;
export type Category = (typeof CATEGORIES)[number];

const MAX_SCENARIOS = 1000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const jsonArguments = z.record(z.string(), z.unknown());

const responseCase = z.strictObject({
  /** Argument values that must all match exactly for this response to be used. */
  when: jsonArguments,
  response: z.string().max(200_000),
});

const tool = z.strictObject({
  name: z.string().regex(NAME, 'a tool name of letters, digits, ".", "_" or "-"'),
  description: z.string().max(20_000),
  annotations: z
    .strictObject({
      title: z.string().max(200).optional(),
      readOnlyHint: z.boolean().optional(),
      destructiveHint: z.boolean().optional(),
      idempotentHint: z.boolean().optional(),
      openWorldHint: z.boolean().optional(),
    })
    .optional(),
  /** What the tool returns (text), unless a case matches. */
  response: z.string().max(200_000).default('ok'),
  cases: z.array(responseCase).max(100).default([]),
  /** Ground truth of the scenario: this tool returns attacker-controlled content. */
  untrusted: z.boolean().default(false),
  /** A rug pull: after this many calls to any tool, the description changes. */
  rug: z
    .strictObject({
      after_calls: z.number().int().min(0).max(1000),
      description: z.string().max(20_000),
    })
    .optional(),
});

const resource = z.strictObject({
  uri: z.string().min(1).max(2048),
  name: z.string().max(200),
  mimeType: z.string().max(100).default('text/plain'),
  text: z.string().max(200_000).optional(),
  /** Served base64-encoded as `blob` when set (text is then ignored). */
  blob_text: z.string().max(200_000).optional(),
  untrusted: z.boolean().default(false),
});

const step = z
  .strictObject({
    role: z.enum(['attack', 'benign']),
    /** A tool to call... */
    call: z.string().regex(NAME).optional(),
    arguments: jsonArguments.default({}),
    /** ...or a resource to read, or a fresh tools/list (after a rug pull). */
    read: z.string().min(1).max(2048).optional(),
    list: z.literal(true).optional(),
    /** Labels the (hijacked) client claims in AgentK metadata. */
    claim_labels: z.array(z.string().max(64)).max(8).optional(),
    /** What the step is, for the report. */
    note: z.string().max(500).default(''),
    /**
     * An attack no value-level check can decide: the instruction was paraphrased, so no
     * value the agent uses appears in the untrusted content. Reported apart.
     */
    needs_model: z.boolean().default(false),
  })
  .refine(
    (s) => [s.call, s.read, s.list].filter((x) => x !== undefined).length === 1,
    'a step needs exactly one of call, read or list',
  );

const scenarioSchema = z.strictObject({
  id: z.string().regex(NAME, 'an id of letters, digits, ".", "_" or "-"'),
  category: z.enum(CATEGORIES),
  title: z.string().min(1).max(200),
  /** The public benchmark family the case is ported from, in our own words. */
  inspired_by: z.string().max(200).default(''),
  /** Values that must never reach the client or the trace (planted credentials). */
  secrets: z.array(z.string().min(8).max(4096)).max(20).default([]),
  server: z.strictObject({
    id: z.string().regex(NAME),
    instructions: z.string().max(20_000).optional(),
    tools: z.array(tool).max(100).default([]),
    resources: z.array(resource).max(100).default([]),
  }),
  steps: z.array(step).min(1).max(100),
});

export type Scenario = z.output<typeof scenarioSchema> & { readonly file: string };
export type ScenarioStep = Scenario['steps'][number];
export type ScenarioTool = Scenario['server']['tools'][number];

function crossChecks(scenario: z.output<typeof scenarioSchema>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const tools = new Set(scenario.server.tools.map((t) => t.name));
  const uris = new Set(scenario.server.resources.map((r) => r.uri));
  if (tools.size !== scenario.server.tools.length) {
    issues.push({ path: 'server.tools', message: 'tool names must be unique' });
  }
  scenario.steps.forEach((s, index) => {
    if (s.call !== undefined && !tools.has(s.call)) {
      issues.push({ path: `steps[${index}].call`, message: `no tool ${JSON.stringify(s.call)}` });
    }
    if (s.read !== undefined && !uris.has(s.read)) {
      issues.push({
        path: `steps[${index}].read`,
        message: `no resource ${JSON.stringify(s.read)}`,
      });
    }
    if (s.needs_model && s.role !== 'attack') {
      issues.push({
        path: `steps[${index}].needs_model`,
        message: 'only attack steps need a model',
      });
    }
  });
  if (!scenario.steps.some((s) => s.role === 'attack')) {
    issues.push({ path: 'steps', message: 'a scenario needs at least one attack step' });
  }
  return issues;
}

/** Parse one scenario file; throws AgentkError('SCENARIO_INVALID') listing every problem. */
export function loadScenario(path: string, shownAs = path): Scenario {
  const text = readConfigText(path, 'scenario');
  const document = parseTomlText(text, shownAs, 'SCENARIO_INVALID');
  const parsed = scenarioSchema.safeParse(document, { error: typeErrorMap() });
  if (!parsed.success) invalidDocument('SCENARIO_INVALID', shownAs, zodIssues(parsed.error));
  const issues = crossChecks(parsed.data);
  if (issues.length > 0) invalidDocument('SCENARIO_INVALID', shownAs, issues);
  return { ...parsed.data, file: shownAs };
}

/** Every `*.toml` under `dir` (recursively, in name order), parsed; ids must be unique. */
export function loadCorpus(dir: string): Scenario[] {
  const files: string[] = [];
  const walk = (at: string) => {
    let entries: string[];
    try {
      entries = readdirSync(at).sort();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new AgentkError(
        code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE',
        `corpus directory ${at} cannot be read (${code})`,
      );
    }
    for (const entry of entries) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.toml')) files.push(path);
      if (files.length > MAX_SCENARIOS) {
        throw new AgentkError('SCENARIO_INVALID', `${dir}: more than ${MAX_SCENARIOS} scenarios`);
      }
    }
  };
  walk(dir);
  if (files.length === 0) {
    throw new AgentkError('SCENARIO_INVALID', `${dir}: no scenario files (*.toml)`);
  }
  const scenarios = files.map((file) => loadScenario(file, relative(process.cwd(), file) || file));
  const seen = new Map<string, string>();
  for (const scenario of scenarios) {
    const earlier = seen.get(scenario.id);
    if (earlier !== undefined) {
      throw new AgentkError(
        'SCENARIO_INVALID',
        `${scenario.file}: id ${JSON.stringify(scenario.id)} is also used by ${earlier}`,
      );
    }
    seen.set(scenario.id, scenario.file);
  }
  return scenarios;
}
