// Write batches (FlightRecorder.batch, Kernel.batch): inside one, events are held in memory
// and written together when it ends; outside one, each is written before syscall() returns,
// as a library user has always had it. A batch that cannot be written loses the recorder.

import { describe, expect, it } from 'vitest';
import { demoSteps } from '../../src/demo/poisoned-page.js';
import { AgentkError } from '../../src/errors.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { type LogSink, MemorySink } from '../../src/recorder/sink.js';
import { verifyLogText } from '../../src/recorder/verify.js';
import { memoryKernel } from '../helpers/kernel.js';

/** An in-memory sink that counts its calls and can be told to fail. */
class CountingSink extends MemorySink implements LogSink {
  /** Each write: the number of lines it carried. */
  readonly writes: number[] = [];
  failing = false;

  override append(line: string): void {
    if (this.failing) throw new AgentkError('TRACE_IO', 'disk full (simulated)');
    super.append(line);
    this.writes.push(1);
  }

  appendLines(lines: readonly string[]): void {
    if (this.failing) throw new AgentkError('TRACE_IO', 'disk full (simulated)');
    for (const line of lines) super.append(line);
    this.writes.push(lines.length);
  }
}

function counted(): { kernel: Kernel; sink: CountingSink } {
  const sink = new CountingSink();
  return { kernel: memoryKernel({ trace: { sink } }).kernel, sink };
}

const steps = demoSteps().slice(0, 4);
const traceIo = expect.objectContaining({ code: 'TRACE_IO' });

describe('FlightRecorder batches', () => {
  it('outside a batch, writes each event before the syscall returns, as before', () => {
    const { kernel, sink } = counted();
    for (const [i, step] of steps.entries()) {
      kernel.syscall(step);
      expect(sink.writes).toHaveLength(i + 1);
    }
    expect(sink.writes.every((lines) => lines === 1)).toBe(true);
  });

  it('in a batch, holds the events and writes them with one write when it ends', () => {
    const { kernel, sink } = counted();
    kernel.batch(() => {
      for (const step of steps) kernel.syscall(step);
      expect(sink.writes).toEqual([]);
    });
    expect(sink.writes).toEqual([steps.length]);
    kernel.syscall(steps[0] as (typeof steps)[0]); // after it: at once again
    expect(sink.writes).toEqual([steps.length, 1]);
    kernel.close();
    const result = verifyLogText(sink.text());
    expect(result.ok && result.events).toBe(steps.length + 1);
  });

  it('writes a seal made in a batch with the events before it, in the same write', () => {
    const { kernel, sink } = counted();
    kernel.batch(() => {
      kernel.syscall(steps[0] as (typeof steps)[0]);
      kernel.close();
    });
    expect(sink.writes).toEqual([2]);
    expect(verifyLogText(sink.text()).ok).toBe(true);
  });

  it('joins a batch opened inside another to it', () => {
    const { kernel, sink } = counted();
    kernel.batch(() => {
      kernel.syscall(steps[0] as (typeof steps)[0]);
      kernel.batch(() => kernel.syscall(steps[1] as (typeof steps)[0]));
      expect(sink.writes).toEqual([]);
    });
    expect(sink.writes).toEqual([2]);
  });

  it('writes what a failing batch recorded, then lets the failure through', () => {
    const { kernel, sink } = counted();
    expect(() =>
      kernel.batch(() => {
        kernel.syscall(steps[0] as (typeof steps)[0]);
        throw new RangeError('the caller failed');
      }),
    ).toThrow(RangeError);
    expect(sink.writes).toEqual([1]);
  });

  it('appends line by line to a sink that cannot take several at once', () => {
    const { kernel, sink } = memoryKernel();
    kernel.batch(() => {
      for (const step of steps) kernel.syscall(step);
      expect(sink.lines).toEqual([]);
    });
    expect(sink.lines).toHaveLength(steps.length);
  });

  it('loses the recorder when a batch cannot be written: no event, sync or seal after', () => {
    const { kernel, sink } = counted();
    kernel.syscall(steps[0] as (typeof steps)[0]);
    sink.failing = true;
    expect(() =>
      kernel.batch(() => {
        for (const step of steps.slice(1)) kernel.syscall(step);
      }),
    ).toThrow(traceIo);
    // Those events have steps and hashes the log lacks: nothing may be chained after them,
    // even once the disk has room again.
    sink.failing = false;
    expect(() => kernel.syscall(steps[1] as (typeof steps)[0])).toThrow(traceIo);
    expect(() => kernel.sync()).toThrow(traceIo);
    expect(() => kernel.close()).toThrow(traceIo);
    expect(kernel.seal).toBeNull();
    expect(sink.writes).toEqual([1]);
    const result = verifyLogText(sink.text());
    expect(!result.ok && result.code).toBe('unsealed');
  });

  it('calls any failure of the sink to write a batch TRACE_IO, on which callers drop it', () => {
    const sink = new MemorySink();
    sink.append = () => {
      throw new RangeError('not a trace error');
    };
    const { kernel } = memoryKernel({ trace: { sink } });
    expect(() => kernel.batch(() => kernel.syscall(steps[0] as (typeof steps)[0]))).toThrow(
      traceIo,
    );
  });

  it('fails the batch when a seal made in it could not be written, though that was caught', () => {
    const { kernel, sink } = counted();
    let sealError: unknown = null;
    expect(() =>
      kernel.batch(() => {
        kernel.syscall(steps[0] as (typeof steps)[0]);
        sink.failing = true;
        try {
          kernel.close();
        } catch (error) {
          sealError = error;
        }
      }),
    ).toThrow(traceIo);
    expect(sealError).toEqual(traceIo);
    expect(sink.writes).toEqual([]);
  });
});
