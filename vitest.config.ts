import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// AgentK's per-user state directory, for the tests and every process they start: never
// the home directory of whoever runs them.
const stateHome = join(tmpdir(), `agentk-test-state-${process.pid}`);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { AGENTK_HOME: stateHome },
    reporters: ['default', ['json', { outputFile: '.test-results.json' }]],
  },
});
