// `agentk policy-check <file>`: validate a policy and summarise it.

import { readConfigText } from '../../config/document.js';
import { AgentkError } from '../../errors.js';
import { labelsOf, UNTRUSTED } from '../../labels/labels.js';
import { CompiledPolicy } from '../../policy/compile.js';
import { loadPolicyFile } from '../../policy/load.js';
import { descriptorSinks, sourceHeuristics } from '../../policy/sinks.js';
import { sinksOf } from '../../vocabulary.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT, printable, table } from '../io.js';

interface ToolClass {
  readonly target: string;
  readonly sinks: readonly string[];
  readonly classified_by: string;
  readonly response_labels: readonly string[];
}

function readTools(path: string): Record<string, unknown>[] {
  let value: unknown;
  try {
    value = JSON.parse(readConfigText(path, 'tool list'));
  } catch (error) {
    if (error instanceof SyntaxError) throw usageError(`${path} is not valid JSON`);
    throw error;
  }
  const list = Array.isArray(value) ? value : (value as { tools?: unknown } | null)?.tools;
  if (
    !Array.isArray(list) ||
    !list.every(
      (t) =>
        typeof t === 'object' && t !== null && typeof (t as { name?: unknown }).name === 'string',
    )
  ) {
    throw usageError(
      `${path} must hold a list of tool descriptors, each with a name (or {"tools": [...]})`,
    );
  }
  return list as Record<string, unknown>[];
}

/** How a policy classifies each tool: sink classes, what decided them, response labels. */
function classifyTools(
  policy: CompiledPolicy,
  tools: readonly Record<string, unknown>[],
  server: string,
): ToolClass[] {
  return tools.map((tool) => {
    const target = `${server}/${String(tool.name)}`;
    const { sinks, by } = policy.explainSinks('tool.invoke', target, descriptorSinks(target, tool));
    return {
      target,
      sinks: sinksOf(sinks),
      classified_by: by,
      response_labels: labelsOf(UNTRUSTED | policy.sourceLabels(target) | sourceHeuristics(target)),
    };
  });
}

export const policyCheckCommand: Command = {
  name: 'policy-check',
  usage: `agentk policy-check <file> [--tools FILE] [--server-id ID] [--json]

Exit 0 with a one-line summary when the policy is valid; exit 1 with one line per problem
(naming the key or value) when it is not.

  --tools FILE     also show how this policy classifies the tools in FILE (a tools/list
                   result, {"tools": [...]}, or a list of descriptors): their sink classes,
                   what decided them, and the labels their responses get
  --server-id ID   the server the tools belong to (default: mcp)`,
  options: {
    json: { type: 'boolean' },
    tools: { type: 'string' },
    'server-id': { type: 'string' },
  },
  positionals: [1, 1],
  run(args, io) {
    const path = args.positionals[0] as string;
    const asJson = flag(args, 'json');
    let policy: ReturnType<typeof loadPolicyFile>;
    try {
      policy = loadPolicyFile(path);
    } catch (error) {
      if (
        !(error instanceof AgentkError) ||
        !['POLICY_INVALID', 'NOT_UTF8', 'FILE_TOO_LARGE'].includes(error.code)
      ) {
        throw error;
      }
      const problems = error.problems.length > 0 ? error.problems : [error.message];
      if (asJson) io.stdout(json({ ok: false, policy: path, problems }));
      else io.stdout(`${problems.join('\n')}\n`);
      return EXIT.failed;
    }
    const count = (effect: string) => policy.rules.filter((rule) => rule.effect === effect).length;
    const summary = {
      ok: true,
      policy: path,
      agent: policy.agent.id,
      rules: policy.rules.length,
      allow: count('allow'),
      deny: count('deny'),
      ask: count('ask'),
      grants: policy.grants.length,
      source_patterns: policy.sources.length,
      rule_ids: policy.rules.map((rule) => rule.id),
    };
    const toolsPath = stringOption(args, 'tools');
    const tools =
      toolsPath === undefined
        ? undefined
        : classifyTools(
            new CompiledPolicy(policy),
            readTools(toolsPath),
            stringOption(args, 'server-id') ?? 'mcp',
          );
    if (asJson) io.stdout(json({ ...summary, ...(tools ? { tools } : {}) }));
    else {
      io.stdout(
        `OK ${path}: agent ${summary.agent}, ${summary.rules} rules (${summary.allow} allow, ${summary.deny} deny, ${summary.ask} ask), ${summary.grants} capability grants, ${summary.source_patterns} source patterns\n`,
      );
      if (tools) {
        const rows = tools.map((tool) => [
          `  ${tool.target}`,
          tool.sinks.join(', '),
          `(${tool.classified_by})`,
          tool.response_labels.join(', '),
        ]);
        io.stdout(
          `${table([['  tool', 'sink classes', '', 'its responses are'], ...rows])
            .map(printable)
            .join('\n')}\n`,
        );
      }
    }
    return EXIT.ok;
  },
};
