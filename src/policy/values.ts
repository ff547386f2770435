// Rules that see arguments (docs/policy.md, "Argument values"): conditions on the values a
// call's arguments carry, by role: the paths it touches, the hosts its URLs name, the
// addresses it sends to, the amounts it moves, and named arguments' values. The kernel
// reads the values (kernel/analysis/values.ts); this module only matches them.
//
// Which way a condition leans depends on the rule's effect, so that a condition can only
// fail closed: a rule that allows matches when EVERY value of the role matches (and there
// is at least one, and none the kernel could not read); a rule that denies or asks matches
// when ANY value does, or when one could not be read.
// Input distrusted: the values (chosen by a possibly hijacked agent); patterns come from the
// policy, validated by parse.ts.

import type { Verdict } from '../vocabulary.js';
import type { RuleConditions } from './types.js';

/** Roles whose values the kernel reads from every call. */
export const VALUE_ROLES = ['paths', 'hosts', 'recipients', 'amounts'] as const;
export type ValueRole = (typeof VALUE_ROLES)[number];

/** The values of one call's arguments, by role (what `paths`, `hosts` ... match). */
export interface ArgumentValues {
  /** Absolute, normalised paths (relative ones resolved against the server's directory). */
  readonly paths: readonly string[];
  /** Lower-case host names of the URLs in control arguments. */
  readonly hosts: readonly string[];
  /** Lower-case e-mail addresses in control arguments. */
  readonly recipients: readonly string[];
  readonly amounts: readonly number[];
  /** Named arguments (those some rule names) as text; null: not a plain value. */
  readonly arguments: Readonly<Record<string, readonly string[] | null>>;
  /** Roles with a value the kernel could not read (a relative path with no directory, ...). */
  readonly unknown: readonly ValueRole[];
  /** The directories `${workspace}` stands for. */
  readonly workspace: readonly string[];
}

/**
 * A decision made without the values themselves: every value condition holds (`match`) or
 * none does (`no-match`), for policy-diff; the most permissive reading (`permissive`: allow
 * and ask conditions hold, deny conditions do not), for "is this tool always denied";
 * values not recorded (`unknown`: what a value that cannot be read does).
 */
export type ValueWorld = 'match' | 'no-match' | 'permissive' | 'unknown';

export const NO_VALUES: ArgumentValues = {
  paths: [],
  hosts: [],
  recipients: [],
  amounts: [],
  arguments: {},
  unknown: [],
  workspace: [],
};

/** Whether a rule has conditions on argument values. */
export function hasValueConditions(when: RuleConditions): boolean {
  return (
    when.paths !== undefined ||
    when.hosts !== undefined ||
    when.recipients !== undefined ||
    when.amount !== undefined ||
    when.arguments !== undefined ||
    when.paths_outside !== undefined ||
    when.hosts_outside !== undefined ||
    when.recipients_outside !== undefined
  );
}

/** The `${workspace}` variable of path patterns. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the policy's own variable syntax.
export const WORKSPACE_VARIABLE = '${workspace}';

const literal = (text: string) => text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/**
 * A path pattern as a regular expression source, `${workspace}` replaced by `root` (taken
 * literally). `**` as a whole component matches any number of components, `*` any run
 * within one, `?` one character. Where matching loosens (`narrow`: an allow's `paths`, a
 * deny's or ask's `paths_outside`) a wildcard never matches a component's leading `.`, so
 * an allow on `${workspace}/**` leaves `.git/hooks`, `.github` and `.env` out unless a
 * pattern names them; where it tightens, `/home/me/secrets/**` covers `.env` there too.
 */
function pathSource(pattern: string, root: string, narrow: boolean): string {
  const expanded = pattern.startsWith(WORKSPACE_VARIABLE)
    ? pattern.slice(WORKSPACE_VARIABLE.length)
    : pattern;
  const prefix = pattern.startsWith(WORKSPACE_VARIABLE) ? literal(root.replace(/\/+$/, '')) : '';
  let source = prefix;
  // Where a match loosens (narrow), a wildcard never reaches a leading dot.
  const dot = narrow ? '(?!\\.)' : '';
  let previous = '';
  for (const part of expanded.split('/').slice(1)) {
    if (part === '**') {
      // `**/**` is `**` (and nested stars stay linear enough to match).
      if (previous !== '**') source += `(?:/${dot}[^/]+)*`;
      previous = part;
      continue;
    }
    previous = part;
    source += part.startsWith('.') ? '/' : `/${dot}`;
    for (const char of part) {
      if (char === '*') source += '[^/]*';
      else if (char === '?') source += '[^/]';
      else source += literal(char);
    }
  }
  // `${workspace}` alone, or `/`: the directory itself.
  return source === '' ? '/' : source;
}

/** Host and recipient patterns: `*` any run (not `@`), `?` one character, caseless. */
function wordSource(pattern: string): string {
  let source = '';
  for (const char of pattern.toLowerCase()) {
    if (char === '*') source += '[^@]*';
    else if (char === '?') source += '[^@]';
    else source += literal(char);
  }
  return source;
}

const anchored = (sources: readonly string[]) => new RegExp(`^(?:${sources.join('|')})$`, 's');

type Test = (values: ArgumentValues) => 'all' | 'some' | 'none';

/** How many of `list` satisfy `matches`: all (and at least one), some, or none. */
function count<T>(list: readonly T[], matches: (item: T) => boolean): 'all' | 'some' | 'none' {
  let hits = 0;
  for (const item of list) if (matches(item)) hits++;
  if (hits === 0) return 'none';
  return hits === list.length ? 'all' : 'some';
}

function roleTest(role: ValueRole, matches: (value: never) => boolean): Test {
  return (values) =>
    values.unknown.includes(role)
      ? 'some'
      : count(values[role] as readonly never[], matches as (value: never) => boolean);
}

/** `hosts` or `hosts_outside`: a value matches a pattern, or (outside) matches none. */
function wordTest(
  role: 'hosts' | 'recipients',
  patterns: readonly string[],
  outside: boolean,
): Test {
  const re = anchored(patterns.map(wordSource));
  return roleTest(role, (value: string) => re.test(value) !== outside);
}

/** A compiled rule's value conditions: whether they hold for these values. */
export type ValueConditions = (values: ArgumentValues | ValueWorld) => boolean;

/** Characters of a named argument's value matched (a longer one is unknown). */
const MAX_ARGUMENT = 4096;

/** Compile the value conditions of a rule with `effect`, or null when it has none. */
export function compileValueConditions(
  when: RuleConditions,
  effect: Verdict,
): ValueConditions | null {
  if (!hasValueConditions(when)) return null;
  const allow = effect === 'allow';
  const tests: Test[] = [];
  if (when.paths !== undefined) tests.push(pathTest(when.paths, false, allow));
  if (when.paths_outside !== undefined) tests.push(pathTest(when.paths_outside, true, !allow));
  if (when.hosts !== undefined) tests.push(wordTest('hosts', when.hosts, false));
  if (when.hosts_outside !== undefined) tests.push(wordTest('hosts', when.hosts_outside, true));
  if (when.recipients !== undefined) {
    tests.push(wordTest('recipients', when.recipients, false));
  }
  if (when.recipients_outside !== undefined) {
    tests.push(wordTest('recipients', when.recipients_outside, true));
  }
  if (when.amount !== undefined) {
    const { min = -Infinity, max = Infinity } = when.amount;
    tests.push(roleTest('amounts', (amount: number) => amount >= min && amount <= max));
  }
  for (const [name, patterns] of Object.entries(when.arguments ?? {})) {
    const lower = patterns.map((pattern) => pattern.toLowerCase());
    tests.push((values) => {
      const given = Object.hasOwn(values.arguments, name) ? values.arguments[name] : [];
      if (given === null || given === undefined) return 'some';
      if (given.some((value) => value.length > MAX_ARGUMENT)) return 'some';
      return count(given, (value) => {
        const text = value.toLowerCase();
        return lower.some((pattern) => wildcardMatch(pattern, text));
      });
    });
  }
  return (values) => {
    if (typeof values === 'string') return worldHolds(values, effect);
    // Allow: every value of every role named matches. Deny, ask: some value of each does.
    return allow
      ? tests.every((test) => test(values) === 'all')
      : tests.every((test) => test(values) !== 'none');
  };
}

/**
 * Whether `text` matches `pattern`, where `*` matches any run: the greedy two-pointer walk
 * (at most pattern x text steps; a regular expression could take exponential time).
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

function worldHolds(world: ValueWorld, effect: Verdict): boolean {
  switch (world) {
    case 'match':
      return true;
    case 'no-match':
      return false;
    case 'permissive':
      return effect !== 'deny';
    case 'unknown':
      return effect !== 'allow';
  }
}

function pathTest(patterns: readonly string[], outside: boolean, narrow: boolean): Test {
  const plain = patterns.filter((pattern) => !pattern.startsWith(WORKSPACE_VARIABLE));
  const relative = patterns.filter((pattern) => pattern.startsWith(WORKSPACE_VARIABLE));
  const fixed = plain.map((pattern) => pathSource(pattern, '', narrow));
  // `${workspace}` stands for every workspace root; the roots change while a session runs.
  let roots = '';
  let re = anchored(fixed.length > 0 ? fixed : ['(?!)']);
  const regexFor = (workspace: readonly string[]): RegExp => {
    const key = workspace.join('\u0000');
    if (relative.length === 0 || key === roots) return re;
    roots = key;
    const sources = [
      ...fixed,
      ...workspace.flatMap((root) => relative.map((pattern) => pathSource(pattern, root, narrow))),
    ];
    re = anchored(sources.length > 0 ? sources : ['(?!)']);
    return re;
  };
  return (values) => {
    const regex = regexFor(values.workspace);
    return roleTest('paths', (path: string) => regex.test(path) !== outside)(values);
  };
}

/** The argument names the policy's rules look at (the kernel reads and records those). */
export function namedArguments(rules: readonly { readonly when: RuleConditions }[]): string[] {
  const names = new Set<string>();
  for (const rule of rules)
    for (const name of Object.keys(rule.when.arguments ?? {})) names.add(name);
  return [...names].sort();
}
