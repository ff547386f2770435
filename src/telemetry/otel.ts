// Export the flight log's syscalls as OpenTelemetry spans over OTLP/HTTP, through the
// official SDK: a BatchSpanProcessor with a bounded queue, an exporter whose failures are
// counted and never reach a call. The OpenTelemetry packages are imported here only, and
// dynamically, so a proxy without --otel never loads them (docs/telemetry.md).

import type { FlightEvent, SyscallEvent } from '../recorder/event.js';
import { spanOf } from './spans.js';

export interface TelemetryConfig {
  /** The OTLP/HTTP traces URL, e.g. `http://localhost:4318/v1/traces`. */
  readonly endpoint: string;
  /** The body's encoding: binary protobuf (OTLP's default) or its JSON mapping. */
  readonly protocol?: OtlpProtocol;
  /** Sent with each export (credentials for a hosted backend); never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** `service.name` of the resource (default `agentk`). */
  readonly serviceName?: string;
  /** Extra resource attributes, e.g. the MCP server's id. */
  readonly resource?: Readonly<Record<string, string>>;
  /** Spans held for export at most; more are dropped and counted (default 2048). */
  readonly maxQueueSize?: number;
  /** How long one export (its retries included) may take before it fails (default 2000 ms). */
  readonly exportTimeoutMs?: number;
  /**
   * How long shutdown waits for the last exports (default 1500 ms: an MCP client that
   * closes the proxy signals it about two seconds later); what is still queued is dropped.
   */
  readonly shutdownTimeoutMs?: number;
}

/** What became of the spans by the end of a session. */
export interface TelemetryCounts {
  /** Spans the receiver accepted. */
  readonly exported: number;
  /** Spans in exports that failed (receiver down, refused, timed out). */
  readonly failed: number;
  /** Spans never sent: the queue was full, or shutdown's wait ran out. */
  readonly dropped: number;
}

export interface Telemetry {
  /** A recorder observer (KernelOptions.onEvent): one span per syscall event. */
  readonly onEvent: (event: FlightEvent) => void;
  /** Flush what is queued (bounded by shutdownTimeoutMs) and stop; never rejects. */
  shutdown(): Promise<TelemetryCounts>;
}

/** The two encodings OTLP/HTTP defines, named as OTEL_EXPORTER_OTLP_PROTOCOL names them. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

const DEFAULT_QUEUE = 2048;
const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_SHUTDOWN_MS = 1500;

/** The packages, loaded on first use only (and only the exporter the protocol needs). */
async function loadPackages(protocol: OtlpProtocol) {
  const [api, base, exporter, resources, conventions] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    protocol === 'http/json'
      ? import('@opentelemetry/exporter-trace-otlp-http')
      : import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  return { api, base, exporter, resources, conventions };
}

type Packages = Awaited<ReturnType<typeof loadPackages>>;
type SpanExporter = import('@opentelemetry/sdk-trace-base').SpanExporter;

/**
 * The OTLP exporter, counting the spans of each export by its outcome. Once `stopped` (the
 * shutdown's wait ran out), what is still queued is not sent: those spans count as dropped,
 * and the process is not held open by exports nobody waits for.
 */
function countingExporter(
  inner: SpanExporter,
  counts: { exported: number; failed: number; stopped: boolean },
) {
  const exporter: SpanExporter = {
    export(spans, done) {
      if (counts.stopped) {
        done({ code: 1 });
        return;
      }
      inner.export(spans, (result) => {
        if (result.code === 0) counts.exported += spans.length;
        else counts.failed += spans.length;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
  return exporter;
}

function providerOf(packages: Packages, config: TelemetryConfig, exporter: SpanExporter) {
  const { base, resources, conventions } = packages;
  const maxQueueSize = config.maxQueueSize ?? DEFAULT_QUEUE;
  const processor = new base.BatchSpanProcessor(exporter, {
    maxQueueSize,
    maxExportBatchSize: Math.min(512, maxQueueSize),
    scheduledDelayMillis: 1000,
    exportTimeoutMillis: config.exportTimeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  return new base.BasicTracerProvider({
    resource: resources.resourceFromAttributes({
      [conventions.ATTR_SERVICE_NAME]: config.serviceName ?? 'agentk',
      ...config.resource,
    }),
    // Sampling off: every syscall is evidence, so every one is exported.
    sampler: new base.AlwaysOnSampler(),
    spanProcessors: [processor],
  });
}

/**
 * Start exporting. The returned observer turns each syscall event into a finished span
 * (its time is the event's), a child of one session span that ends at shutdown.
 */
export async function startTelemetry(config: TelemetryConfig): Promise<Telemetry> {
  const packages = await loadPackages(config.protocol ?? 'http/protobuf');
  const { api } = packages;
  const counts = { exported: 0, failed: 0, stopped: false };
  const otlp = new packages.exporter.OTLPTraceExporter({
    url: config.endpoint,
    headers: { ...config.headers },
    timeoutMillis: config.exportTimeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  const provider = providerOf(packages, config, countingExporter(otlp, counts));
  const tracer = provider.getTracer('agentk');
  const session = tracer.startSpan('agentk session', { kind: api.SpanKind.INTERNAL });
  const parent = api.trace.setSpan(api.ROOT_CONTEXT, session);
  let ended = 0;
  const onEvent = (event: FlightEvent) => {
    if (event.type === 'sandbox') return; // not a syscall: no span
    if (event.type === 'seal') {
      session.setAttributes({
        'agentk.run_id': event.run_id,
        'agentk.seal.event_count': event.seal.event_count,
        'agentk.seal.head_hash': event.seal.head_hash,
      });
      return;
    }
    if (event.type !== 'syscall') return;
    const shape = spanOf(event as SyscallEvent);
    const span = tracer.startSpan(
      shape.name,
      { kind: api.SpanKind.INTERNAL, startTime: shape.time, attributes: shape.attributes },
      parent,
    );
    if (shape.denied) span.setStatus({ code: api.SpanStatusCode.ERROR, ...shape.denied });
    span.end(shape.time);
    ended += 1;
  };
  return {
    onEvent,
    async shutdown() {
      session.end();
      ended += 1;
      const limit = config.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_MS;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, limit);
        timer.unref();
      });
      await Promise.race([provider.shutdown().catch(() => undefined), late]);
      clearTimeout(timer);
      counts.stopped = true;
      const { exported, failed } = counts;
      return { exported, failed, dropped: Math.max(0, ended - exported - failed) };
    },
  };
}
