// Run one agentk command in this process (output discarded) and print its wall time, exit
// code, CPU time and peak resident memory as JSON: how the benchmarks time a command on its own.
import { main } from '../dist/cli/main.js';

const start = performance.now();
const cpu = process.cpuUsage();
const code = await main(process.argv.slice(2), {
  stdout: () => {},
  stderr: () => {},
  env: process.env,
  cwd: process.cwd(),
});
const seconds = (performance.now() - start) / 1000;
const { user, system } = process.cpuUsage(cpu);
const cpuSeconds = (user + system) / 1e6;
console.log(
  JSON.stringify({ code, seconds, cpuSeconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 }),
);
