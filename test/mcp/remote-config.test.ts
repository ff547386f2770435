// mcp-proxy-stdio --url's arguments: every mistake refused in one line before anything is
// written or sent, no header value or variable value in it; and the SDK's HTTP client
// loaded only when --url is used.

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the proxy's to expand, not JavaScript's.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/command.js';
import { mcpProxyStdioCommand, proxyConfig } from '../../src/cli/commands/mcp-proxy-stdio.js';
import { expandHeaders } from '../../src/cli/remote-options.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { tempTrace } from '../helpers/real.js';

const SECRET = 'ghp_secretvalue0123456789';
const HTTPS = ['--url', 'https://mcp.example.com/mcp?key=querysecret'];

describe('mcp-proxy-stdio --url configuration', () => {
  const cases: [string[], RegExp][] = [
    [[...HTTPS, '--', 'node'], /either with --url or as a command \(-- CMD\), not both/],
    [[...HTTPS, '--command', 'node'], /either with --url or as a command/],
    [[], /no server to start: give --url URL/],
    [['--url', 'not a url'], /--url is not an absolute URL/],
    [
      ['--url', 'http://mcp.example.com/mcp'],
      /plain http is allowed only to this machine .* add --allow-insecure-http/,
    ],
    [['--url', `https://user:${SECRET}@mcp.example.com/`], /must not carry credentials/],
    [['--url', 'ftp://mcp.example.com/'], /must be an https:\/\//],
    [['--header', `Authorization: Bearer ${SECRET}`], /--header needs --url/],
    [[...HTTPS, '--header', `Bearer ${SECRET}`], /--header #1 must be 'Name: value'/],
    [
      [...HTTPS, '--header', `Mcp-Session-Id: ${SECRET}`],
      /\(Mcp-Session-Id\) is set by the transport/,
    ],
    [[...HTTPS, '--header', 'X-Key: ${1BAD}'], /\$\{\.\.\.\} must name an environment variable/],
    [[...HTTPS, '--allow-env', 'HOME'], /--allow-env is for a server AgentK starts/],
    [
      [...HTTPS, '--header', 'Authorization: Bearer ${MISSING_TOKEN}'],
      /--header #1 \(Authorization\): \$\{MISSING_TOKEN\} is not set in AgentK's environment/,
    ],
    [
      [...HTTPS, '--header', 'X-Key: ${BROKEN_VALUE}'],
      /--header #1 \(X-Key\): its value would contain a control character/,
    ],
  ];
  for (const [args, expected] of cases) {
    it(`refuses ${args.join(' ')} in one line, before anything is written`, async () => {
      const trace = tempTrace();
      const result = await runCli(
        ['mcp-proxy-stdio', '--server-id', 's', '--trace-out', trace, ...args],
        { BROKEN_VALUE: `${SECRET}\r\nX-Injected: 1` },
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(expected);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      for (const hidden of [SECRET, 'querysecret']) expect(result.stderr).not.toContain(hidden);
      expect(existsSync(trace)).toBe(false);
    });
  }

  it('fills ${VAR} from the environment, leaves other text alone, and shows no query', () => {
    const args = parseCommandArgs(mcpProxyStdioCommand, [
      '--server-id',
      's',
      ...HTTPS,
      '--header',
      'Authorization: Bearer ${TOKEN}',
      '--header',
      'X-Price: $5 ${A}${B}',
    ]);
    const remote = proxyConfig(args).remote;
    expect(remote?.shown).toBe('https://mcp.example.com/mcp');
    expect(remote && expandHeaders(remote, { TOKEN: SECRET, A: 'x', B: 'y' })).toEqual({
      Authorization: `Bearer ${SECRET}`,
      'X-Price': '$5 xy',
    });
  });

  it('lets plain http reach this machine, and another only with --allow-insecure-http', () => {
    const config = (url: string, ...more: string[]) =>
      proxyConfig(
        parseCommandArgs(mcpProxyStdioCommand, ['--server-id', 's', '--url', url, ...more]),
      );
    for (const url of ['http://localhost:3000/mcp', 'http://127.0.0.1/mcp', 'http://[::1]:8/mcp']) {
      expect(config(url).remote?.url.href).toBe(new URL(url).href);
    }
    expect(config('http://10.0.0.5/mcp', '--allow-insecure-http').remote?.shown).toBe(
      'http://10.0.0.5/mcp',
    );
  });
});

describe('the SDK behind --url', () => {
  it('is imported by nothing in src/ but types, and remote.ts loads it when it starts', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
      );
    // Each static import statement (over several lines when long) that names the SDK.
    const loads = files(join(PACKAGE_ROOT, 'src')).flatMap((file) =>
      [
        ...readFileSync(file, 'utf8').matchAll(
          /^import [^;]*?from '@modelcontextprotocol\/sdk[^']*';/gm,
        ),
      ]
        .map(([statement]) => statement)
        .filter((statement) => !statement.startsWith('import type '))
        .map((statement) => `${file}: ${statement}`),
    );
    expect(loads).toEqual([]);
    const remote = readFileSync(join(PACKAGE_ROOT, 'src', 'mcp', 'proxy', 'remote.ts'), 'utf8');
    expect(remote).toContain("await import('@modelcontextprotocol/sdk/client/streamableHttp.js')");
  });
});
