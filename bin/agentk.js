#!/usr/bin/env node
// The `agentk` command: a tiny shim over the compiled CLI in dist/ (shipped in the package;
// built by `npm run build` in a checkout, and by `npm start`/`npm test`).
// SIGUSR1 would open the Node inspector in a process that may hold the signing key, for any
// same-user process (the proxied server included) to attach: a listener turns that off.
process.on('SIGUSR1', () => {});
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (error) {
  if (error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('agentk: not built yet; run `npm run build` in the agentk folder\n');
    process.exit(2);
  }
  throw error;
}
process.exitCode = await main(process.argv.slice(2));
