// `--otel` for the MCP proxy: where its spans go (src/telemetry/config.ts) and the exporter
// started before the kernel, whose recorder tells it of each event. Export is best effort:
// the trace file is the record, so an exporter that cannot start leaves the session running.

import type { Policy } from '../policy/types.js';
import { telemetryConfig } from '../telemetry/config.js';
import { startTelemetry, type Telemetry } from '../telemetry/otel.js';
import { flag, type ParsedArgs, stringOption } from './command.js';
import type { CliIo } from './io.js';

/** The exporter, or null without --otel, --otel-endpoint or an enabled `[telemetry]`. */
export async function proxyTelemetry(
  args: ParsedArgs,
  policy: Policy,
  serverId: string,
  io: CliIo,
  say: (line: string) => void,
): Promise<Telemetry | null> {
  // A wrong endpoint or an unset ${VAR} is the user's mistake: it stops the command.
  const config = telemetryConfig({
    flag: flag(args, 'otel'),
    endpoint: stringOption(args, 'otel-endpoint'),
    policy: policy.telemetry,
    env: io.env,
    resource: { 'agentk.mcp.server': serverId },
  });
  if (config === null) return null;
  try {
    return await startTelemetry(config);
  } catch (error) {
    say(`telemetry: not exported (${(error as Error).name}); the trace file has every event`);
    return null;
  }
}
