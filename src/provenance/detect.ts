// Content scanners: credential material and prompt-injection markers. They raise labels
// (`secret`, `poisoned-suspect`); they never lower one. Heuristics under-approximate by
// nature, so policies also act on source labels and the sticky context label.
// Input distrusted: all scanned text (bounded regexes, no backtracking blow-ups).

/** The names of password lines and credential members, with any prefix or suffix. */
const CREDENTIAL_NAME =
  '(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?key)';

/** Credential formats: private key blocks, cloud, VCS and API tokens. */
const FORMAT_PATTERNS: readonly RegExp[] = [
  /-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----/g,
  // Bounded quantifiers and no trailing assertion: linear time however long a run of
  // token characters an attacker sends (a long token is then found in pieces).
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{36,255}/g,
  /\bgithub_pat_[A-Za-z0-9_]{22,255}/g,
  /\bglpat-[A-Za-z0-9_-]{20,255}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,255}/g,
  /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,1024}/g,
  /\bAIza[0-9A-Za-z_-]{35}/g,
  /\b(?:sk|rk)_live_[0-9A-Za-z]{20,255}/g,
  /\bwhsec_[A-Za-z0-9+/=]{20,255}/g,
  /\bnpm_[A-Za-z0-9]{36}/g,
  /\bhf_[A-Za-z0-9]{30,255}/g,
  // A JSON Web Token: header and payload are base64url JSON objects ({" is eyJ).
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,4096}/g,
  /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,512}/g,
  /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{20,32}/g,
];

/** Every scanner: the formats, then passwords in URLs and in password lines. */
const SECRET_PATTERNS: readonly RegExp[] = [
  ...FORMAT_PATTERNS,
  // An HTTP bearer credential (Authorization: Bearer …): the token is the secret.
  /\bBearer[ \t]+(?!secret_fd_[0-9a-f]{32})(?<value>[A-Za-z0-9._~+/-]{20,4096}=*)/g,
  // A password in a URL's userinfo (scheme://user:password@host): group 1, which (like
  // every group here) must end the match.
  /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@"']{1,128}:(?!secret_fd_[0-9a-f]{32}@|\[redacted-secret\]@)(?<value>[^\s@/"']{3,256})(?=@)/gi,
  // A password line, in config, env, YAML or JSON form (DB_PASSWORD=, aws_secret_access_key =,
  // "password": "..."): only the value (group 1) is the secret. A name may carry a prefix
  // and a suffix joined by _ . or - (never letters: `secretary` is not a secret). A value
  // that is already a handle or a redaction is not found again.
  new RegExp(
    String.raw`(?<![A-Za-z0-9])(?<name>${CREDENTIAL_NAME}(?:[_.-][A-Za-z0-9_.-]{0,64})?)["']?\s*[:=](?!\/\/)\s*["']?(?!secret_fd_[0-9a-f]{32}|\[redacted-secret\])(?<value>[^\s"',}]{6,512})`,
    'gi',
  ),
];

/** Every scanner but the key blocks' own (credentialSpans finds whole blocks). */
const SPAN_PATTERNS = SECRET_PATTERNS.slice(1);

/** `source` (letters, no escapes or classes with letters) as the `i` flag reads it. */
const caseless = (source: string) =>
  source.replace(/[a-z]/g, (letter) => `[${letter}${letter.toUpperCase()}]`);

/**
 * What each pattern above starts with (a password in a URL: its `://user:`; a password
 * line: its name, in any case): a text none of these occur in matches no pattern, and is
 * not scanned further. Ordinary text, most of what the kernel reads, then costs one pass
 * of this regex instead of one per pattern. A pattern added above needs its anchor here:
 * test/provenance/anchors.test.ts holds the scanners' answers with and without this gate
 * equal on random texts built from the patterns' pieces.
 */
const ANCHORS = new RegExp(
  [
    '-----BEGIN ',
    String.raw`\b(?:AKIA|ASIA)`,
    String.raw`\bgh[pousr]_`,
    String.raw`\bgithub_pat_`,
    String.raw`\bglpat-`,
    String.raw`\bxox[abprs]-`,
    String.raw`\bsk-`,
    String.raw`\bAIza`,
    String.raw`\b(?:sk|rk)_live_`,
    String.raw`\bwhsec_`,
    String.raw`\bnpm_`,
    String.raw`\bhf_`,
    'eyJ',
    String.raw`\bpypi-AgEIcHlwaS5vcmc`,
    String.raw`https:\/\/hooks\.slack\.com\/services\/`,
    String.raw`\bBearer[ \t]`,
    String.raw`:\/\/[^\s:/@"']{1,128}:`,
    // Caseless by hand: one regex serves both (ASCII letters only, as `i` without `u` reads).
    caseless(CREDENTIAL_NAME),
  ].join('|'),
);

/** Whether any credential pattern could match `text` (false: none can). */
function anchored(text: string): boolean {
  return ANCHORS.test(text);
}

/**
 * Password-line names that describe a secret rather than hold one (`password_reset_url`,
 * `secret_name`, `private_key_path`, `access_token_expires_in`), and values that are
 * placeholders (`********`, `${DB_PASSWORD}`, `<your key>`): not credentials.
 */
const DESCRIPTIVE_NAME =
  /[_.-](?:url|uri|path|file|dir|name|id|ttl|expires|expires_in|expiry|expiration|header|reset|length|min|max|hint|prompt|label|type|policy|rotation|count|enabled|required|format|version|algorithm|hash|field)$/i;
const PLACEHOLDER =
  /^(?:\*+|\$\{.*|\$\(.*|<.*|\{\{.*|x{3,}|changeme|redacted|null|none|true|false|undefined)$/i;

function isCredentialLine(groups: Record<string, string | undefined>): boolean {
  const name = groups.name;
  if (name === undefined) return true; // not the password-line pattern
  const value = groups.value ?? '';
  if (DESCRIPTIVE_NAME.test(name) || PLACEHOLDER.test(value)) return false;
  // `pwd: /home/me/project` is a working directory, not a password.
  return !(name.toLowerCase() === 'pwd' && /^[/~]/.test(value));
}

/** A member name that holds a credential (the password-line names, with any prefix or suffix). */
const CREDENTIAL_MEMBER = new RegExp(
  `(?:^|[_.-])(?<name>${CREDENTIAL_NAME}(?:[_.-][A-Za-z0-9_.-]{0,64})?)$`,
  'i',
);

/**
 * Whether a JSON member's value is a credential by its name, as a password line would be
 * (`"password": "…"`, `"AWS_SECRET_ACCESS_KEY": "…"`): the scanners see name and value
 * apart in structured data, so the name is judged here. Descriptive names and placeholder
 * values are not credentials; nor is a value shorter than a password line's.
 */
export function isCredentialMember(member: string, value: string): boolean {
  if (member.length > 128 || value.length < 6 || value.length > 4096) return false;
  if (/^secret_fd_[0-9a-f]{32}$/.test(value)) return false;
  const name = CREDENTIAL_MEMBER.exec(member)?.groups?.name;
  return name !== undefined && isCredentialLine({ name, value });
}

const PEM_BEGIN = /-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----/g;
const PEM_END = /-----END (?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----/g;
const MAX_PEM = 64 * 1024;

export interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * Where credential material sits in a text: whole private-key blocks (BEGIN to END, or to
 * the end of the text when cut), tokens, and the values of password lines. Spans are
 * sorted and do not overlap. `gated` false scans every text whole, for tests of the gate.
 */
export function findSecrets(text: string, gated = true): Span[] {
  const spans = [...credentialSpans(text, gated)];
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span.start < last.end) {
      if (span.end > last.end) merged[merged.length - 1] = { start: last.start, end: span.end };
    } else merged.push(span);
  }
  return merged;
}

/**
 * Every credential span, unsorted and possibly overlapping, as the scanners find them.
 * `gated`: texts without an anchor are not scanned (false only to test that gate).
 */
function* credentialSpans(text: string, gated = true): Generator<Span> {
  if (gated && !anchored(text)) return;
  PEM_BEGIN.lastIndex = 0;
  for (let match = PEM_BEGIN.exec(text); match; match = PEM_BEGIN.exec(text)) {
    PEM_END.lastIndex = match.index;
    const end = PEM_END.exec(text);
    const stop = end && end.index - match.index < MAX_PEM ? end.index + end[0].length : text.length;
    PEM_BEGIN.lastIndex = stop;
    yield { start: match.index, end: stop };
  }
  for (const pattern of SPAN_PATTERNS) {
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      if (match.groups && !isCredentialLine(match.groups)) continue;
      const value = match.groups?.value ?? match[0];
      const start = match.index + match[0].length - value.length;
      yield { start, end: start + value.length };
    }
  }
}

/**
 * Credential *formats* only (key blocks and token prefixes, never the password-line
 * heuristic): high-confidence findings, for scanning files (agentk readiness).
 */
export function findCredentialFormats(text: string, gated = true): string[] {
  const out: string[] = [];
  if (gated && !anchored(text)) return out;
  for (const pattern of FORMAT_PATTERNS) {
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) out.push(match[0]);
  }
  return out;
}

/** Whether a text holds credential material: stops at the first finding. */
export function containsSecret(text: string): boolean {
  return !credentialSpans(text).next().done;
}

/** What stands in a log, or a question, where credential material was. */
export const REDACTED = '[redacted-secret]';

/**
 * A text with each span replaced by `replace(value)`: in order, the first of overlapping
 * spans winning. Returns the text itself when there is nothing to replace.
 */
export function replaceSpans(
  text: string,
  spans: Span[],
  replace: (value: string) => string,
): string {
  if (spans.length === 0) return text;
  spans.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const span of spans) {
    if (span.start < at) continue;
    out += text.slice(at, span.start) + replace(text.slice(span.start, span.end));
    at = span.end;
  }
  return out + text.slice(at);
}

/** Replace credential material with a marker; used for the few raw strings a log keeps. */
export function redactSecrets(text: string): string {
  return replaceSpans(text, findSecrets(text), () => REDACTED);
}
