// Where spans go and with which headers, from the command line, the policy's `[telemetry]`
// and the standard OTEL_EXPORTER_OTLP_* variables, in that order (docs/telemetry.md).

import { expandVariables } from '../config/variables.js';
import { AgentkError } from '../errors.js';
import type { PolicyTelemetry } from '../policy/types.js';
import type { OtlpProtocol, TelemetryConfig } from './otel.js';

export const DEFAULT_TRACES_ENDPOINT = 'http://localhost:4318/v1/traces';

export interface TelemetryChoice {
  /** `--otel` was given. */
  readonly flag: boolean;
  /** `--otel-endpoint URL` (implies --otel). */
  readonly endpoint?: string | undefined;
  readonly policy?: PolicyTelemetry | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resource attributes (the MCP server's id). */
  readonly resource?: Readonly<Record<string, string>>;
}

/** `${VAR}` in a header value, from the environment; a variable that is unset is an error. */
function expanded(name: string, value: string, env: TelemetryChoice['env']): string {
  return expandVariables(value, env, `[telemetry] header ${name}`);
}

/** `key=value,key2=value2` (values percent-encoded), as OTEL_EXPORTER_OTLP_HEADERS has it. */
function headersVariable(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    try {
      headers[pair.slice(0, equals).trim()] = decodeURIComponent(pair.slice(equals + 1).trim());
    } catch {
      // A value that is not valid percent-encoding is skipped, as the SDK does.
    }
  }
  return headers;
}

function endpointOf(choice: TelemetryChoice): string {
  const { env } = choice;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const endpoint =
    choice.endpoint ??
    choice.policy?.endpoint ??
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (base ? `${base.replace(/\/+$/, '')}/v1/traces` : DEFAULT_TRACES_ENDPOINT);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new AgentkError('USAGE', 'the telemetry endpoint is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AgentkError('USAGE', 'the telemetry endpoint is not an http(s) URL');
  }
  return endpoint;
}

const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json'];

/** The policy's `protocol`, then the OTEL_EXPORTER_OTLP_* variables; OTLP's default is protobuf. */
function protocolOf(choice: TelemetryChoice): OtlpProtocol {
  const { env } = choice;
  const protocol =
    choice.policy?.protocol ??
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf';
  if (!PROTOCOLS.includes(protocol)) {
    throw new AgentkError(
      'USAGE',
      `the telemetry protocol ${JSON.stringify(protocol.slice(0, 40))} is not supported: expected http/protobuf or http/json`,
    );
  }
  return protocol as OtlpProtocol;
}

/** The exporter's configuration, or null when telemetry is off. */
export function telemetryConfig(choice: TelemetryChoice): TelemetryConfig | null {
  const { policy, env } = choice;
  const on = choice.flag || choice.endpoint !== undefined || policy?.enabled === true;
  if (!on) return null;
  const headers = {
    ...headersVariable(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...headersVariable(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  for (const [name, value] of Object.entries(policy?.headers ?? {})) {
    headers[name] = expanded(name, value, env);
  }
  return {
    endpoint: endpointOf(choice),
    protocol: protocolOf(choice),
    headers,
    serviceName: policy?.serviceName ?? env.OTEL_SERVICE_NAME ?? 'agentk',
    ...(choice.resource ? { resource: choice.resource } : {}),
  };
}

/** The line at session end: what became of the spans (never where they went or with what). */
export function telemetryLine(counts: {
  exported: number;
  failed: number;
  dropped: number;
}): string {
  return `telemetry: ${counts.exported} span(s) exported, ${counts.failed} failed to export, ${counts.dropped} dropped`;
}
