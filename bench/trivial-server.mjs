// The trivial MCP server of the benchmarks: answers every tools/call at once with a short
// text, so that a round trip measures the path to it, not the work behind it.
//
// `trivial-server.mjs N`: each answer is about N bytes of prose instead of a short word.
// BENCH_TOOLS=N: tools/list gives N tools (a large catalogue). trivial-answers.mjs says what.
import { createInterface } from 'node:readline';
import { answerTo } from './trivial-answers.mjs';

const options = {
  answerBytes: Number(process.argv[2] ?? 0),
  tools: Number(process.env.BENCH_TOOLS ?? 0),
};
createInterface({ input: process.stdin }).on('line', (line) => {
  const answer = answerTo(JSON.parse(line), options);
  if (answer !== undefined) process.stdout.write(`${JSON.stringify(answer)}\n`);
});
