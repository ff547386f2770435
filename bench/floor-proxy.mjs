// The write-before-forward floor of the benchmarks: the least a proxy can do and still keep
// a tamper-evident record written before each message takes effect. For every
// newline-delimited JSON-RPC message, in either direction, it parses the message, appends
// one event line to a trace file with a synchronous write(2), and only then forwards it.
// Each event is {step, direction, message, previous_hash, event_hash}; event_hash is the
// SHA-256 of previous_hash followed by the event's JSON without its hash fields, so the
// lines form a hash chain. No policy, no canonical encoding, no signature, no fsync. The
// lines of one chunk of input leave in one write per side, after all their events are
// written (as AgentK corks its pipes per chunk).
//
// node bench/floor-proxy.mjs TRACE_FILE -- COMMAND [ARGS...]

import { spawn } from 'node:child_process';
import { hash } from 'node:crypto';
import { openSync, writeSync } from 'node:fs';

const [traceFile, separator, command, ...args] = process.argv.slice(2);
if (separator !== '--' || !command) {
  process.stderr.write('usage: floor-proxy.mjs TRACE_FILE -- COMMAND [ARGS...]\n');
  process.exit(2);
}
const trace = openSync(traceFile, 'a');
let step = 0;
let previousHash = '0'.repeat(64);

function record(direction, line) {
  const body = JSON.stringify({ step: step++, direction, message: JSON.parse(line) });
  const eventHash = hash('sha256', previousHash + body);
  writeSync(
    trace,
    `${body.slice(0, -1)},"previous_hash":"${previousHash}","event_hash":"${eventHash}"}\n`,
  );
  previousHash = eventHash;
}

/** Split a stream into lines; record each complete one, then forward the chunk's lines. */
function relay(input, output, direction) {
  let pending = '';
  input.setEncoding('utf8');
  input.on('data', (chunk) => {
    const text = pending + chunk;
    const end = text.lastIndexOf('\n');
    if (end === -1) {
      pending = text;
      return;
    }
    pending = text.slice(end + 1);
    const complete = text.slice(0, end + 1);
    for (const line of complete.split('\n')) if (line.trim() !== '') record(direction, line);
    output.write(complete);
  });
  return input;
}

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
relay(process.stdin, child.stdin, 'client-to-server').on('end', () => child.stdin.end());
relay(child.stdout, process.stdout, 'server-to-client');
child.on('exit', (code) => process.exit(code ?? 0));
