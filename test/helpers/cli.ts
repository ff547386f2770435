// Run the CLI in-process with captured output (faster than a child process; the
// end-to-end tests in test/cli spawn the real bin).
import { main } from '../../src/cli/main.js';

export async function runCli(
  argv: string[],
  env: Record<string, string> = {},
  cwd: string = process.cwd(),
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    // The tests' state directory (vitest.config.ts), unless a test names its own.
    env: { ...(process.env.AGENTK_HOME ? { AGENTK_HOME: process.env.AGENTK_HOME } : {}), ...env },
    cwd,
  });
  return { code, stdout, stderr };
}
