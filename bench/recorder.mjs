// Recorder append rate: a typical tool.invoke event, appended to a file, with each
// durability, one at a time and in batches of 32 (as the proxy writes a chunk's events).
// Prints JSON for bench/run.mjs.
import { closeSync, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FileSink } from '../dist/index.js';
import { FlightRecorder } from '../dist/recorder/recorder.js';
import { eventBuilder, typicalEvent } from './lib.mjs';

const work = process.env.BENCH_WORK;
const quick = process.env.BENCH_QUICK === '1';
const template = await typicalEvent();
const event = eventBuilder(template);

function rate(durability, n, group = 1) {
  const sink = new FileSink(
    join(work, `append-${durability}-${group}-${Date.now()}.jsonl`),
    durability,
  );
  const recorder = new FlightRecorder(sink, template.run_id);
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    recorder.append(event(i));
    if (durability === 'group' && (i + 1) % group === 0) sink.sync();
  }
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  sink.close();
  lastCpuRate = n / ((used.user + used.system) / 1e6);
  return n / seconds;
}
/** Events per second of this process's CPU time (user + system) in the last rate(). */
let lastCpuRate = 0;

/** Events appended in batches of `size` (FlightRecorder.batch): one write per batch. */
function batchRate(durability, n, size) {
  const sink = new FileSink(join(work, `batch-${durability}-${Date.now()}.jsonl`), durability);
  const recorder = new FlightRecorder(sink, template.run_id);
  const start = performance.now();
  for (let i = 0; i < n; i += size) {
    recorder.batch(() => {
      for (let j = i; j < Math.min(n, i + size); j++) recorder.append(event(j));
    });
  }
  const seconds = (performance.now() - start) / 1000;
  sink.close();
  return n / seconds;
}

/** The floor of the default durability: bare write(2)s of a line as long as the event's. */
function bareWrites(n) {
  const fd = openSync(join(work, `writes-${Date.now()}`), 'ax');
  const line = Buffer.from(`${'x'.repeat(lineBytes - 1)}\n`);
  const start = performance.now();
  for (let i = 0; i < n; i++) writeSync(fd, line);
  const seconds = (performance.now() - start) / 1000;
  closeSync(fd);
  return n / seconds;
}

function bareFsyncs(n) {
  const fd = openSync(join(work, `fsync-${Date.now()}`), 'ax');
  const line = Buffer.from(`${'x'.repeat(700)}\n`);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    writeSync(fd, line);
    fsyncSync(fd);
  }
  const seconds = (performance.now() - start) / 1000;
  closeSync(fd);
  return n / seconds;
}

rate('flush', 5000); // warm up
let lineBytes = 1500;
{
  const sink = new FileSink(join(work, `measure-${Date.now()}.jsonl`), 'flush');
  const recorder = new FlightRecorder(sink, template.run_id);
  recorder.append(event(0));
  sink.close();
  lineBytes = statSync(sink.path).size;
}
const flush = rate('flush', quick ? 20_000 : 200_000);
const flushCpu = lastCpuRate;
console.log(
  JSON.stringify({
    flush,
    flushCpu,
    writeFloor: bareWrites(quick ? 20_000 : 200_000),
    fsyncEach: rate('fsync', quick ? 300 : 3000),
    fsyncGroup: rate('group', quick ? 3000 : 30_000, 32),
    fsyncFloor: bareFsyncs(quick ? 300 : 3000),
    flushBatch: batchRate('flush', quick ? 20_000 : 200_000, 32),
    fsyncBatch: batchRate('fsync', quick ? 3000 : 30_000, 32),
  }),
);
