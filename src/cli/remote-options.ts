// `agentk mcp-proxy-stdio --url`: a remote MCP server (Streamable HTTP) instead of a
// command. The URL is checked (https, or http to this machine only unless the operator
// says otherwise; no credentials in it), the headers are parsed when the arguments are,
// and their `${VAR}` references are filled from AgentK's environment just before the
// session starts. A header's value is a credential: no message here shows one, nor the
// variable's value, only the header's name and the variable's.

import { expandVariables, isLoopbackHost, shownUrl } from '../config/variables.js';
import { type ParsedArgs, stringOption, usageError } from './command.js';

/** The remote server, as the arguments give it (header values still templates). */
export interface RemoteConfig {
  readonly url: URL;
  /** The URL without credentials, query or fragment: what stderr and the summary show. */
  readonly shown: string;
  readonly headers: readonly HeaderTemplate[];
  /** --oauth: send the token `agentk login` stored for this server id and URL. */
  readonly oauth: boolean;
  /** --allow-insecure-http (the authorization server is held to it too). */
  readonly insecure: boolean;
}

export interface HeaderTemplate {
  readonly name: string;
  /** The value as given: `${NAME}` is replaced by that variable of AgentK's environment. */
  readonly template: string;
  /** Its place among the --header options, from 1 (for messages). */
  readonly index: number;
}

/** A header name (an HTTP token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const REFERENCE = /\$\{([^}]*)\}/g;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Headers the transport sets itself: one given here would break the session, or lie. */
const TRANSPORT_HEADERS = new Set([
  'accept',
  'connection',
  'content-length',
  'content-type',
  'host',
  'last-event-id',
  'mcp-protocol-version',
  'mcp-session-id',
  'transfer-encoding',
]);

/** The remote server the arguments name, or null when they name a command. */
export function remoteOptions(args: ParsedArgs): RemoteConfig | null {
  const text = stringOption(args, 'url');
  const given = (args.values.header as string[] | undefined) ?? [];
  const insecure = args.values['allow-insecure-http'] === true;
  const oauth = args.values.oauth === true;
  if (text === undefined) {
    if (given.length > 0) throw usageError('--header needs --url');
    if (oauth) throw usageError('--oauth needs --url');
    if (insecure) throw usageError('--allow-insecure-http needs --url');
    return null;
  }
  const hasCommand = stringOption(args, 'command') !== undefined || args.rest.length > 0;
  if (hasCommand) {
    throw usageError('give the server either with --url or as a command (-- CMD), not both');
  }
  for (const option of ['arg', 'allow-env', 'stderr-file']) {
    if (args.values[option] !== undefined) {
      throw usageError(`--${option} is for a server AgentK starts; with --url there is none`);
    }
  }
  const url = checkedUrl(text, insecure);
  const shown = shownUrl(url);
  const headers = given.map((header, i) => parseHeader(header, i + 1));
  if (oauth && headers.some((header) => header.name.toLowerCase() === 'authorization')) {
    throw usageError('give --oauth or an Authorization --header, not both');
  }
  return { url, shown, headers, oauth, insecure };
}

function checkedUrl(text: string, insecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not echoed: a URL may carry a key in its query.
    throw usageError('--url is not an absolute URL (https://host/path)');
  }
  if (url.username !== '' || url.password !== '') {
    throw usageError('--url must not carry credentials: send them with --header');
  }
  if (url.protocol === 'http:' && !insecure && !isLoopbackHost(url.hostname)) {
    throw usageError(
      `--url ${url.protocol}//${url.host}: plain http is allowed only to this machine (localhost, 127.0.0.1, [::1]); use https, or add --allow-insecure-http to send in the clear`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError('--url must be an https:// (or http://) URL');
  }
  return url;
}

/** `Name: value`, checked; the value is never part of a message. */
function parseHeader(header: string, index: number): HeaderTemplate {
  const colon = header.indexOf(':');
  const name = colon === -1 ? '' : header.slice(0, colon).trim();
  if (!TOKEN.test(name)) {
    throw usageError(`--header #${index} must be 'Name: value' with an HTTP header name`);
  }
  if (TRANSPORT_HEADERS.has(name.toLowerCase())) {
    throw usageError(`--header #${index} (${name}) is set by the transport itself; not allowed`);
  }
  const template = header.slice(colon + 1).trim();
  for (const [, variable] of template.matchAll(REFERENCE)) {
    if (!VARIABLE.test(variable ?? '')) {
      throw usageError(`--header #${index} (${name}): \${...} must name an environment variable`);
    }
  }
  return { name, template, index };
}

/**
 * The headers with their `${VAR}` references filled from `env`. A variable unset or empty,
 * or a value that would break the header (a line break), is refused by name before
 * anything is sent.
 */
export function expandHeaders(
  remote: RemoteConfig,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { name, template, index } of remote.headers) {
    const at = `--header #${index} (${name})`;
    const value = expandVariables(template, env, at);
    if (Object.keys(headers).some((other) => other.toLowerCase() === name.toLowerCase())) {
      throw usageError(`${at}: given twice`);
    }
    headers[name] = value;
  }
  return headers;
}
