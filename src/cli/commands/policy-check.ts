// `agentk policy-check <file>`: validate a policy and summarise it.

import { AgentkError } from '../../errors.js';
import { loadPolicyFile } from '../../policy/load.js';
import { type Command, flag, json } from '../command.js';
import { EXIT } from '../io.js';

export const policyCheckCommand: Command = {
  name: 'policy-check',
  summary: 'validate a policy file and summarise its rules',
  usage: `agentk policy-check <file> [--json]

Exit 0 with a one-line summary when the policy is valid; exit 1 with one line per problem
(naming the key or value) when it is not.`,
  options: { json: { type: 'boolean' } },
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
    if (asJson) io.stdout(json(summary));
    else {
      io.stdout(
        `OK ${path}: agent ${summary.agent}, ${summary.rules} rules (${summary.allow} allow, ${summary.deny} deny, ${summary.ask} ask), ${summary.grants} capability grants, ${summary.source_patterns} source patterns\n`,
      );
    }
    return EXIT.ok;
  },
};
