// `agentk why` for a call refused for its amount: the rule it suggests names the amount
// the call moved (and the recipient), not every amount to that recipient, and it is
// checked to allow this call.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binarySession } from '../helpers/binary.js';
import { runCli } from '../helpers/cli.js';

describe('agentk why and amounts', () => {
  it('suggests a rule bounded to the amount the call moved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentk-why-amount-'));
    const policy = join(dir, 'policy.toml');
    writeFileSync(
      policy,
      `extends = "default"

[[rules]]
id = "deny-big-payments"
before = "deny-raw-secret-into-context"
effect = "deny"
reason = "payments of 100 or more are refused"
[rules.when]
syscalls = ["tool.invoke"]
targets = ["srv/pay"]
amount = { min = 100 }
`,
    );
    const session = binarySession(
      {
        'tools/list': {
          tools: [
            {
              name: 'pay',
              description: 'Pay someone.',
              inputSchema: {
                type: 'object',
                properties: { to: { type: 'string' }, amount: { type: 'number' } },
              },
            },
          ],
        },
        'tools/call': { pay: { content: [{ type: 'text', text: 'paid' }] } },
      },
      { dir, args: ['--policy', policy] },
    );
    await session.initialize();
    await session.request('tools/list');
    const refused = await session.request('tools/call', {
      name: 'pay',
      arguments: { to: 'bob@pay.example', amount: 5000 },
    });
    expect(JSON.stringify(refused)).toContain('deny-big-payments');
    await session.close();
    const brief = (await runCli(['why', session.trace, '--policy', policy])).stdout;
    const step = /step (\d+) DENY tool\.invoke srv\/pay/.exec(brief)?.[1] as string;
    const ran = await runCli(['why', session.trace, step, '--policy', policy, '--json']);
    const json = JSON.parse(ran.stdout);
    expect(json.rule_snippet).toContain('recipients = ["bob@pay.example"]');
    expect(json.rule_snippet).toContain('amount = { min = 5000, max = 5000 }');
    expect(json.broad).toBeNull();
    expect(json.check.flips).toBe(true);
  }, 60_000);
});
