// The recorder's observer (KernelOptions.onEvent, what telemetry hangs on): told of each
// event once its line is in the sink, a batch's once the batch is written, never of one the
// log lacks; what it throws never reaches the caller.

import { describe, expect, it } from 'vitest';
import { AgentkError } from '../../src/errors.js';
import type { FlightEvent, UnchainedEvent } from '../../src/recorder/event.js';
import { FlightRecorder } from '../../src/recorder/recorder.js';
import { MemorySink } from '../../src/recorder/sink.js';

class FailingSink extends MemorySink {
  failing = false;
  override append(line: string): void {
    if (this.failing) throw new AgentkError('TRACE_IO', 'disk full (simulated)');
    super.append(line);
  }
}

const entry = (n: number) =>
  ({
    type: 'syscall',
    ts: '2026-12-07T15:00:00.000Z',
    run_id: 'r',
    agent_id: 'a',
    syscall: { kind: 'context.read', target: `t${n}` },
    decision: { verdict: 'allow' },
  }) as unknown as UnchainedEvent;

function observed(sink = new FailingSink()) {
  const told: { event: FlightEvent; linesThen: number }[] = [];
  const recorder = new FlightRecorder(sink, 'r', undefined, (event) => {
    told.push({ event, linesThen: sink.lines.length });
  });
  return { recorder, sink, told };
}

describe('the recorder observer', () => {
  it('is told of each event after its line is written, with its step and hash', () => {
    const { recorder, told } = observed();
    const first = recorder.append(entry(1));
    recorder.append(entry(2));
    expect(told.map(({ event }) => event.step)).toEqual([1, 2]);
    expect(told.map(({ linesThen }) => linesThen)).toEqual([1, 2]);
    expect(told[0]?.event.event_hash).toBe(first.event_hash);
  });

  it('hears of a batch when it is written, and never of a batch that was not', () => {
    const { recorder, sink, told } = observed();
    recorder.batch(() => {
      recorder.append(entry(1));
      recorder.append(entry(2));
      expect(told).toEqual([]);
    });
    expect(told.map(({ linesThen }) => linesThen)).toEqual([2, 2]);
    sink.failing = true;
    expect(() => recorder.batch(() => recorder.append(entry(3)))).toThrow(AgentkError);
    expect(told).toHaveLength(2);
  });

  it('cannot fail an append by throwing', () => {
    const sink = new MemorySink();
    const recorder = new FlightRecorder(sink, 'r', undefined, () => {
      throw new Error('observer broke');
    });
    expect(recorder.append(entry(1)).step).toBe(1);
    expect(sink.lines).toHaveLength(1);
  });
});
