import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// AgentK's per-user state directory, for the tests and every process they start: never
// the home directory of whoever runs them.
const stateHome = join(tmpdir(), `agentk-test-state-${process.pid}`);

// The files that take longest, started first so that no worker is left with one of them at
// the end (vitest orders by the durations of the last run, which a fresh clone does not have).
const LONGEST = ['test/release/audit.test.ts', 'test/sessions/', 'test/conformance/'];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const path = file.moduleId.replaceAll('\\', '/');
      const at = LONGEST.findIndex((prefix) => path.includes(`/${prefix}`));
      return at === -1 ? LONGEST.length : at;
    };
    // Array.prototype.sort is stable: within a rank, vitest's own order stands.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { AGENTK_HOME: stateHome },
    reporters: ['default', ['json', { outputFile: '.test-results.json' }]],
    // Most test files wait on the processes they start (proxies, servers, tsc), so two
    // files at a time keep two cores busy; vitest's default is cores - 1, one on 2 cores.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: LongestFirst },
  },
});
