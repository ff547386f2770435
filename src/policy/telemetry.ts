// `[telemetry]`: where the MCP proxy exports its syscalls as OpenTelemetry spans
// (docs/telemetry.md). Header values may name environment variables as ${VAR}, resolved
// when the proxy starts: credentials stay out of the file.
// Input distrusted: the policy document.

import * as z from 'zod';
import type { PolicyTelemetry } from './types.js';

export const telemetrySchema = z.strictObject({
  enabled: z.boolean({ error: 'expected true or false' }).optional(),
  endpoint: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  protocol: z
    .enum(['http/protobuf', 'http/json'], { error: 'expected "http/protobuf" or "http/json"' })
    .optional(),
  service_name: z.string().min(1).max(128).optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(4096)).optional(),
});

export function telemetryOf(table: z.infer<typeof telemetrySchema>): PolicyTelemetry {
  return {
    enabled: table.enabled ?? true,
    ...(table.endpoint !== undefined ? { endpoint: table.endpoint } : {}),
    ...(table.protocol !== undefined ? { protocol: table.protocol } : {}),
    ...(table.service_name !== undefined ? { serviceName: table.service_name } : {}),
    headers: { ...table.headers },
  };
}
