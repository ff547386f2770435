// A real OTLP/HTTP traces receiver for tests: POST /v1/traces with an
// ExportTraceServiceRequest, answered with an empty ExportTraceServiceResponse in the same
// encoding. Both encodings OTLP/HTTP defines are read: binary protobuf
// (`application/x-protobuf`, the default), decoded by code that protobufjs generated from
// the official opentelemetry-proto definitions (the `otlp-proto-definitions` dev
// dependency: @opentelemetry/otlp-transformer 0.200.0, the last release that ships them
// generated), and the protobuf JSON mapping (`application/json`). No OpenTelemetry
// Collector binary is installable from the registries these machines reach. Each body is
// kept (as UTF-8 text, for "never contains" checks: protobuf carries strings as UTF-8
// bytes) and parsed into spans with their attributes decoded.

import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

interface ProtobufMessage {
  decode(bytes: Uint8Array): unknown;
  encode(message: object): { finish(): Uint8Array };
  toObject(message: unknown, options: object): unknown;
}
const generated = createRequire(import.meta.url)(
  'otlp-proto-definitions/build/src/generated/root.js',
) as {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: ProtobufMessage;
            ExportTraceServiceResponse: ProtobufMessage;
          };
        };
      };
    };
  };
};
const traceService = generated.opentelemetry.proto.collector.trace.v1;

export type Encoding = 'protobuf' | 'json';

export type AttributeValue = string | number | boolean | AttributeValue[] | null;

export interface ReceivedSpan {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly attributes: Record<string, AttributeValue>;
  readonly status: { readonly code?: number; readonly message?: string };
  readonly resource: Record<string, AttributeValue>;
}

export interface Receiver {
  readonly url: string;
  readonly bodies: string[];
  /** How each body was encoded. */
  readonly encodings: Encoding[];
  readonly headers: IncomingHttpHeaders[];
  readonly spans: ReceivedSpan[];
  /** Resolves once at least `count` spans came in (rejects after `timeoutMs`). */
  waitForSpans(count: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
interface OtlpAnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: number | string | null;
  doubleValue?: number | null;
  arrayValue?: { values?: OtlpAnyValue[] } | null;
}

/** A value in either mapping: protobufjs leaves the unset members of a oneof null. */
function decodeValue(value: OtlpAnyValue): AttributeValue {
  if (value.stringValue != null) return value.stringValue;
  if (value.boolValue != null) return value.boolValue;
  if (value.intValue != null) return Number(value.intValue);
  if (value.doubleValue != null) return value.doubleValue;
  if (value.arrayValue != null) return (value.arrayValue.values ?? []).map(decodeValue);
  return null;
}

export function decodeAttributes(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, decodeValue(value)]));
}

/**
 * One ExportTraceServiceRequest as the JSON mapping's object: a JSON body parsed, a binary
 * body through the generated decoder (its ids then base64, made hex by `idOf`).
 */
function requestOf(body: Buffer, encoding: Encoding): unknown {
  if (encoding === 'json') return JSON.parse(body.toString('utf8'));
  const { ExportTraceServiceRequest } = traceService;
  return ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), {
    longs: String,
    bytes: String,
    arrays: true,
  });
}

/** The spans of one ExportTraceServiceRequest, checking the shape it must have. */
function spansOf(body: Buffer, encoding: Encoding): ReceivedSpan[] {
  const request = requestOf(body, encoding) as {
    resourceSpans: {
      resource?: { attributes?: OtlpKeyValue[] };
      scopeSpans: {
        scope?: { name?: string };
        spans: (Omit<ReceivedSpan, 'attributes' | 'resource'> & { attributes?: OtlpKeyValue[] })[];
      }[];
    }[];
  };
  if (!Array.isArray(request.resourceSpans)) throw new Error('no resourceSpans');
  // The JSON mapping writes ids as hex; protobufjs gives a binary body's ids as base64.
  const idOf = (id: string | null | undefined) =>
    encoding === 'json' ? (id ?? '') : Buffer.from(id ?? '', 'base64').toString('hex');
  return request.resourceSpans.flatMap((resourceSpans) => {
    const resource = decodeAttributes(resourceSpans.resource?.attributes);
    return resourceSpans.scopeSpans.flatMap((scope) =>
      scope.spans.map((span) => ({
        name: span.name,
        traceId: idOf(span.traceId),
        spanId: idOf(span.spanId),
        parentSpanId: idOf(span.parentSpanId),
        attributes: decodeAttributes(span.attributes),
        status: span.status ?? {},
        resource,
      })),
    );
  });
}

export async function startReceiver(): Promise<Receiver> {
  const bodies: string[] = [];
  const encodings: Encoding[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const spans: ReceivedSpan[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = request.headers['content-type'] ?? '';
      const encoding = type.startsWith('application/x-protobuf')
        ? 'protobuf'
        : type.startsWith('application/json')
          ? 'json'
          : null;
      if (request.method !== 'POST' || request.url !== '/v1/traces' || encoding === null) {
        response.writeHead(404).end();
        return;
      }
      bodies.push(body.toString('utf8'));
      encodings.push(encoding);
      headers.push(request.headers);
      spans.push(...spansOf(body, encoding));
      response.writeHead(200, {
        'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      });
      const { ExportTraceServiceResponse } = traceService;
      response.end(encoding === 'json' ? '{}' : ExportTraceServiceResponse.encode({}).finish());
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    bodies,
    encodings,
    headers,
    spans,
    waitForSpans(count, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (spans.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(spans);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${spans.length} span(s) received, waited for ${count}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
