// What `agentk mcp-proxy-stdio` tells the person who runs it, on stderr: where the server's
// own stderr is logged, which variables set for it it does not get, why
// a server died (the end of its log, redacted), and the summary at exit. Text from the
// server is distrusted: credentials are redacted and terminal controls removed before a
// line of it is shown.

import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { ProxyExit } from '../mcp/proxy/types.js';
import { redactSecrets } from '../provenance/detect.js';

/** A server's log is rotated (one old copy kept) when a session starts past this size. */
const LOG_ROTATE_BYTES = 4 * 1024 * 1024;
/** Lines of a dead server's stderr shown, and the characters kept of each. */
const LAST_LINES = 6;
const LINE_CHARS = 300;

/** Names that usually carry a credential a server was configured with. */
const CREDENTIAL_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|ACCESS_?KEY|AUTH|_PAT$/i;

/** Values shorter than this are not hunted for verbatim (they would match by chance). */
const MIN_SECRET_VALUE = 8;

/**
 * A line the server wrote, fit for a terminal: the values of the variables it was given
 * replaced by their names (a token passed with --allow-env is known here verbatim),
 * credential formats redacted, controls removed; redacted before it is clipped, so that a
 * credential cut by the clip is still found whole.
 */
export function serverLine(
  line: string,
  passed: Readonly<Record<string, string>>,
  limit: number,
): string {
  // Controls out first (an escape inside a token or a passed value would hide it from
  // what follows), then the passed values and credential formats, then the clip.
  let text = withoutControls(line);
  for (const [name, value] of Object.entries(passed)) {
    if (name === 'PATH' || name === 'HOME' || value.length < MIN_SECRET_VALUE) continue;
    text = text.replaceAll(withoutControls(value), `[${name}]`);
  }
  const shown = redactSecrets(text).trimEnd();
  return shown.length > limit ? `${shown.slice(0, limit)}…` : shown;
}

/** Escape sequences and control characters removed, not replaced: tokens stay whole. */
function withoutControls(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are removed.
      .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are removed.
      .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, '')
  );
}

/** The longest credential format the scanner knows is shorter than this. */
const TOKEN_MARGIN = 4096;

/**
 * The server's stderr as it comes, cut into whole lines: a line split across two reads is
 * shown, and redacted, once it is whole. Of a line longer than `limit`, only the start is
 * shown, cut at a space so that no token is cut in two (or without its last 4 KiB), and
 * the rest of it is dropped.
 */
export function lineSplitter(
  each: (line: string) => void,
  limit = 65_536,
): (chunk: Buffer) => void {
  const decoder = new StringDecoder('utf8'); // a character split across two reads stays whole
  let partial = '';
  let skipping = false;
  return (chunk) => {
    const lines = (partial + decoder.write(chunk)).split(/\r?\n/);
    partial = lines.pop() ?? '';
    if (skipping && lines.length > 0) {
      lines.shift(); // the rest of an over-long line
      skipping = false;
    }
    if (!skipping && partial.length > limit) {
      const space = partial.lastIndexOf(' ', limit);
      lines.push(partial.slice(0, Math.max(space, limit - TOKEN_MARGIN)));
      partial = '';
      skipping = true;
    } else if (skipping) partial = '';
    for (const line of lines) if (line.trim() !== '') each(line);
  };
}

/**
 * The default log of a server's stderr, in the state directory's logs: one file per server
 * id, appended session after session, the previous one kept as `.1` once it grows large.
 */
export function serverLogPath(logs: string, serverId: string): string {
  mkdirSync(logs, { recursive: true, mode: 0o700 });
  const path = join(logs, `mcp-${serverId}.log`);
  try {
    if (statSync(path).size > LOG_ROTATE_BYTES) renameSync(path, `${path}.1`);
  } catch {
    // no log yet, or it cannot be rotated: appending still works
  }
  return path;
}

/**
 * Variables a shell, a desktop session, npm or an MCP client sets for every process: held
 * back from the server like the rest, but not worth a word, since nobody configured them
 * for this server. What is left (a client config's `env` block, mostly) is named.
 */
const AMBIENT_NAME = new RegExp(
  `^(?:${[
    'PATH',
    'HOME',
    'USER',
    'LOGNAME',
    'USERNAME',
    'SHELL',
    'TERM',
    'TERM_PROGRAM(?:_VERSION)?',
    'COLORTERM',
    'LANG',
    'LANGUAGE',
    'LC_[A-Z]+',
    'TZ',
    'PWD',
    'OLDPWD',
    'SHLVL',
    '_',
    'TMPDIR',
    'TMP',
    'TEMP',
    'HOSTNAME',
    'HOSTTYPE',
    'OSTYPE',
    'MACHTYPE',
    'MAIL',
    'EDITOR',
    'VISUAL',
    'PAGER',
    'LESS[A-Z_]*',
    'LS_COLORS',
    'COLUMNS',
    'LINES',
    'DISPLAY',
    'WAYLAND_DISPLAY',
    'XDG_[A-Z_]+',
    'DBUS_SESSION_BUS_ADDRESS',
    'SSH_(?:AUTH_SOCK|AGENT_PID|CLIENT|CONNECTION|TTY)',
    'GPG_TTY',
    'MOTD_SHOWN',
    'INIT_CWD',
    'NODE',
    'npm_[A-Za-z0-9_]+',
    'NVM_[A-Z_]+',
    'VSCODE_[A-Z_]+',
    'ELECTRON_[A-Z_]+',
    'CHROME_DESKTOP',
    'GIO_LAUNCHED_DESKTOP_FILE(?:_PID)?',
    'DESKTOP_SESSION',
    'GDMSESSION',
    'GNOME_[A-Z_]+',
    'KDE_[A-Z_]+',
    'SESSION_MANAGER',
    'XAUTHORITY',
    'QT_[A-Z_]+',
    'GTK_[A-Z_]+',
    'COMMAND_MODE',
    'SECURITYSESSIONID',
    'LaunchInstanceID',
    '__CF[A-Za-z_]+',
    'XPC_[A-Z_]+',
    'Apple_[A-Za-z_]+',
    'APPDATA',
    'LOCALAPPDATA',
    'USERPROFILE',
    'HOMEDRIVE',
    'HOMEPATH',
    'SYSTEMDRIVE',
    'SYSTEMROOT',
    'WINDIR',
    'COMSPEC',
    'PATHEXT',
    'PROCESSOR_[A-Z_]+',
    'NUMBER_OF_PROCESSORS',
    'OS',
    'PROGRAMFILES(?:\\(X86\\))?',
    'PROGRAMDATA',
    'PUBLIC',
    'ALLUSERSPROFILE',
    'COMMONPROGRAMFILES(?:\\(X86\\))?',
    'COMPUTERNAME',
    'USERDOMAIN(?:_ROAMINGPROFILE)?',
    'LOGONSERVER',
    'SESSIONNAME',
    'DRIVERDATA',
  ].join('|')})$`,
  'i',
);

/**
 * The variables AgentK holds back from the server that someone may have set for it (names
 * only, never values): credential-looking names first, then any other name a shell or a
 * client would not set on its own, for the line that says how to pass them. A client's
 * `env` block for a hand-written proxy entry is dropped unless `--allow-env` names each
 * variable; this is where the person hears of it.
 */
export function withheldNames(
  env: Readonly<Record<string, string | undefined>>,
  allowed: readonly string[],
): string[] {
  const passed = new Set(['PATH', 'HOME', ...allowed]);
  const held = Object.keys(env)
    .filter((name) => env[name] !== undefined && !passed.has(name))
    .filter((name) => /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name) && !name.startsWith('AGENTK_'))
    .sort();
  const credentials = held.filter((name) => CREDENTIAL_NAME.test(name));
  const others = held.filter((name) => !CREDENTIAL_NAME.test(name) && !AMBIENT_NAME.test(name));
  return [...credentials, ...others];
}

/** Variables named one by one at most; past that, an environment was inherited whole. */
const NAMED_OTHERS = 6;

/**
 * The start line for `withheldNames`: credential-looking names always; other names when
 * they are few (a client config's `env` block), else counted, since a client that hands
 * its whole environment down leaves dozens, and a long list would hide the one that
 * matters. `verbose` names them all.
 */
export function withheldLine(names: readonly string[], verbose = false): string | null {
  if (names.length === 0) return null;
  const credentials = names.filter((name) => CREDENTIAL_NAME.test(name));
  const others = names.filter((name) => !CREDENTIAL_NAME.test(name));
  const named =
    verbose || others.length <= NAMED_OTHERS ? [...credentials, ...others] : credentials;
  const rest = names.length - named.length;
  const counted =
    rest === 0
      ? ''
      : `${named.length > 0 ? ', and ' : ''}${rest} other variable${rest === 1 ? '' : 's'} of AgentK's environment (--verbose names them)`;
  return `not passed to the server: ${named.join(', ')}${counted} (add --allow-env NAME for each it needs)`;
}

/**
 * Why the server is gone, for a person: the end of its stderr (redacted, one line each),
 * where the whole log is, and a variable it complains about that AgentK held back.
 */
export function deathReport(
  tail: readonly string[],
  log: string | null,
  withheld: readonly string[],
  passed: Readonly<Record<string, string>>,
): string[] {
  const lines = tail
    .slice(-LAST_LINES)
    .map((line) => `  | ${serverLine(line, passed, LINE_CHARS)}`);
  const out: string[] = [];
  if (lines.length > 0) {
    out.push(`the server's last words on stderr${log !== null ? ` (all of it: ${log})` : ''}:`);
    out.push(...lines);
  } else {
    out.push(`the server wrote nothing on stderr${log !== null ? ` (log: ${log})` : ''}`);
  }
  const said = tail.join('\n');
  const missing = withheld.filter((name) => new RegExp(`\\b${name}\\b`).test(said));
  if (missing.length > 0) {
    out.push(
      `it names ${missing.join(', ')}, which AgentK did not pass to it: add ${missing.map((name) => `--allow-env ${name}`).join(' ')}`,
    );
  }
  return out;
}

/** The closing line: how the session ended, what went through, what was refused. */
export function summaryLine(exit: ProxyExit, refused: number, trace: string): string {
  const { stats } = exit;
  const requests = `${stats.clientRequests} request${stats.clientRequests === 1 ? '' : 's'}`;
  return `${exit.reason}; ${requests} (${stats.forwarded} forwarded, ${stats.answeredByProxy} answered by AgentK, ${refused} denied or asked); trace ${trace} (${exit.seal ? 'sealed' : 'unsealed'})`;
}
