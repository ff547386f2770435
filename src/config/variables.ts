// `${VAR}` in a configured value (a header), filled from AgentK's environment when it is
// used, so that credentials stay out of files and command lines; which hosts plain http
// may reach; and how a configured URL is shown. Shared by --url and --header, [telemetry]
// and [anchors].
// Input distrusted: the template (a policy or a command line) and the variables' values.

import { AgentkError } from '../errors.js';

const REFERENCE = /\$\{([^}]*)\}/g;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * The template with each `${NAME}` replaced by that variable. A malformed reference, a
 * variable that is unset or empty, or a value holding a control character (which would
 * break a header) is refused in one line that names `where` and the variable, never the
 * value.
 */
export function expandVariables(
  template: string,
  env: Readonly<Record<string, string | undefined>>,
  where: string,
): string {
  const value = template.replace(REFERENCE, (_match, variable: string) => {
    if (!VARIABLE.test(variable)) {
      throw new AgentkError('USAGE', `${where}: \${${variable}} is not a variable name`);
    }
    const found = env[variable];
    if (found === undefined || found === '') {
      throw new AgentkError(
        'USAGE',
        `${where}: \${${variable}} is not set in AgentK's environment`,
      );
    }
    return found;
  });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: controls are what is refused.
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new AgentkError('USAGE', `${where}: its value would contain a control character`);
  }
  return value;
}

/** Hosts plain http may reach without saying so: this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A URL as shown to a person: no credentials, no query (either may hold a secret). */
export function shownUrl(url: URL | string): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return `${parsed.origin}${parsed.pathname}`;
}
