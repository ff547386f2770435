// CPU time per appended event (default durability: one write(2) per event), for one or
// more checkouts side by side: each round runs every checkout in a child process of its
// own, in turn, so drift on a shared machine hits them alike. Median and minimum over the
// rounds. Events are built as the kernel builds them (see bench/recorder.mjs).
//
//   node bench/recorder-cpu.mjs [events=100000] [rounds=6] [checkouts=.] [batch]
//
// With `batch`, events are appended in batches of 32 (one write each).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { eventBuilder } from './lib.mjs';

const [n = '100000', rounds = '6', list = '.', mode = 'each'] = process.argv.slice(2);

if (process.env.RECORDER_CPU_CHILD) {
  const dir = process.env.RECORDER_CPU_CHILD;
  const url = (path) => pathToFileURL(join(dir, path)).href;
  const { FileSink } = await import(url('dist/index.js'));
  const { FlightRecorder } = await import(url('dist/recorder/recorder.js'));
  const { typicalEvent } = await import(url('bench/lib.mjs'));
  const template = await typicalEvent();
  // This script's builder, for every checkout compared (an older one may not have it).
  const event = eventBuilder(template);
  const work = mkdtempSync(join(tmpdir(), 'agentk-recorder-cpu-'));
  const run = (count, name) => {
    const sink = new FileSink(join(work, name), 'flush');
    const recorder = new FlightRecorder(sink, template.run_id);
    const cpu = process.cpuUsage();
    const start = performance.now();
    if (mode === 'batch') {
      for (let i = 0; i < count; i += 32) {
        recorder.batch(() => {
          for (let j = i; j < Math.min(count, i + 32); j++) recorder.append(event(j));
        });
      }
    } else for (let i = 0; i < count; i++) recorder.append(event(i));
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    sink.close();
    return { cpuMicros: (used.user + used.system) / count, perSecond: count / seconds };
  };
  run(5000, 'warm.jsonl');
  const result = run(Number(n), 'measured.jsonl');
  rmSync(work, { recursive: true, force: true });
  console.log(JSON.stringify(result));
} else {
  const self = fileURLToPath(import.meta.url);
  const checkouts = list.split(',').map((dir) => resolve(dir));
  const results = new Map(checkouts.map((dir) => [dir, []]));
  for (let r = 0; r < Number(rounds); r++) {
    for (const dir of checkouts) {
      const out = execFileSync(process.execPath, [self, n, rounds, list, mode], {
        encoding: 'utf8',
        env: { ...process.env, RECORDER_CPU_CHILD: dir },
      });
      results.get(dir).push(JSON.parse(out.trim()));
    }
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (const [dir, runs] of results) {
    const cpu = runs.map((run) => run.cpuMicros);
    const rate = runs.map((run) => run.perSecond);
    console.log(
      `${dir.padEnd(28)} ${median([...cpu]).toFixed(2)} µs CPU per event (min ${Math.min(...cpu).toFixed(2)})  ${median([...rate]).toFixed(0)} events/s (best ${Math.max(...rate).toFixed(0)})`,
    );
  }
}
