// Reading a policy file: bounded size, strict UTF-8, TOML 1.0 (smol-toml), bounded nesting,
// then parsePolicy(). Every failure is an AgentkError whose problems are one line each.
// A policy may extend others (`extends = "default"`, a shipped profile's name, or a path
// relative to the file): the documents are merged first (mergePolicyDocuments), then the
// result is validated as one policy.
// Input distrusted: the file's bytes.

import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  invalidDocument,
  MAX_CONFIG_BYTES,
  parseTomlText,
  readConfigText,
} from '../config/document.js';
import { AgentkError } from '../errors.js';
import { DEFAULT_POLICY_PATH, PACKAGE_ROOT } from '../paths.js';
import { parsePolicy } from './parse.js';
import type { Policy } from './types.js';

export const MAX_POLICY_BYTES = MAX_CONFIG_BYTES;
/** Policies one `extends` chain may hold besides the file itself. */
const MAX_EXTENDS_DEPTH = 8;

type Doc = Record<string, unknown>;

/** Parse policy TOML text; throws AgentkError('POLICY_INVALID') listing every problem. */
export function parsePolicyText(
  text: string,
  where = 'policy',
  dir = process.cwd(),
  self: string | undefined = undefined,
): Policy {
  const document = resolveExtends(
    parseTomlText(text, where, 'POLICY_INVALID') as Doc,
    where,
    dir,
    self === undefined ? [] : [self],
  );
  const result = parsePolicy(document);
  if (!result.ok) invalidDocument('POLICY_INVALID', where, result.issues);
  return result.policy;
}

/** Load and validate a policy file. */
export function loadPolicyFile(path: string): Policy {
  return parsePolicyText(
    readConfigText(path, 'policy'),
    path,
    dirname(resolve(path)),
    resolve(path),
  );
}

/** Where an `extends` name points: `default`, a shipped profile, or a path. */
export function extendedPath(name: string, dir: string): string {
  if (name === 'default') return DEFAULT_POLICY_PATH;
  if (/^(?:servers\/)?[a-z][a-z0-9-]*$/.test(name)) {
    return join(PACKAGE_ROOT, 'examples', 'policies', `${name}.toml`);
  }
  return isAbsolute(name) ? name : resolve(dir, name);
}

/** The document with what it extends merged underneath it. */
function resolveExtends(
  doc: Doc,
  where: string,
  dir: string,
  chain: readonly string[],
  reached: Map<string, string> = new Map(),
): Doc {
  const { extends: extended, drop_rules: drop, ...own } = doc;
  if (extended === undefined) {
    if (drop !== undefined) {
      invalidDocument('POLICY_INVALID', where, [
        {
          path: 'drop_rules',
          message: 'drop_rules needs extends (it drops rules of what the policy extends)',
        },
      ]);
    }
    return own;
  }
  const names = typeof extended === 'string' ? [extended] : extended;
  if (
    !Array.isArray(names) ||
    names.length === 0 ||
    names.some((n) => typeof n !== 'string' || n === '')
  ) {
    invalidDocument('POLICY_INVALID', where, [
      { path: 'extends', message: 'extends must be a policy name or path, or a list of them' },
    ]);
  }
  if (drop !== undefined && (!Array.isArray(drop) || drop.some((id) => typeof id !== 'string'))) {
    invalidDocument('POLICY_INVALID', where, [
      { path: 'drop_rules', message: 'drop_rules must be a list of rule ids' },
    ]);
  }
  const base = loadParents(names as string[], where, dir, chain, reached);
  const dropped = new Set((drop as string[] | undefined) ?? []);
  const baseIds = new Set(rulesOf(base).map((rule) => rule.id));
  const missing = [...dropped].filter((id) => !baseIds.has(id));
  if (missing.length > 0) {
    invalidDocument('POLICY_INVALID', where, [
      {
        path: 'drop_rules',
        message: `no rule ${missing.map((id) => JSON.stringify(id)).join(', ')} in what this policy extends`,
      },
    ]);
  }
  return mergePolicyDocuments(base, own, [...dropped], where);
}

/** The policies `names` (extended by `where`), each with its own ancestors, merged in order. */
function loadParents(
  names: readonly string[],
  where: string,
  dir: string,
  chain: readonly string[],
  reached: Map<string, string>,
): Doc {
  let base: Doc = {};
  for (const name of names) {
    const path = extendedPath(name, dir);
    const key = resolve(path);
    if (chain.includes(key) || chain.length >= MAX_EXTENDS_DEPTH) {
      throw new AgentkError(
        'POLICY_INVALID',
        `${where}: extends ${JSON.stringify(name)} ${chain.includes(key) ? 'loops back to a policy already in the chain' : `goes deeper than ${MAX_EXTENDS_DEPTH} policies`}`,
      );
    }
    // Merged a second time, a shared ancestor would undo what the first branch changed
    // (its rules by id, its sources): name it once instead.
    const first = reached.get(key);
    if (first !== undefined) {
      throw new AgentkError(
        'POLICY_INVALID',
        `${where}: extends ${JSON.stringify(name)}, which ${first} already brings in: list each policy once (extend it directly, and keep the others free of it)`,
      );
    }
    reached.set(key, where);
    const text = readConfigText(path, `policy ${JSON.stringify(name)} (extended by ${where})`);
    const parent = resolveExtends(
      parseTomlText(text, path, 'POLICY_INVALID') as Doc,
      path,
      dirname(path),
      [...chain, key],
      reached,
    );
    base = mergePolicyDocuments(base, parent, [], path);
  }
  return base;
}

const rulesOf = (doc: Doc): Doc[] => (Array.isArray(doc.rules) ? (doc.rules as Doc[]) : []);
const table = (value: unknown): Doc =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Doc) : {};

/**
 * `child` over `base`: the agent, discovery and version are the child's where it gives
 * them; source labels, structure fields and sink patterns join (the child's entry wins
 * for the same pattern; sink lists are appended); grants and anchors are appended; sandbox
 * profiles join (the child's wins for the same server). A child rule with
 * a parent rule's id replaces it where it stands; one with `before = "<id>"` goes right
 * before that rule; the others go, in order, before the parent's last rule (its
 * catch-all), or at the end when the parent has none. Rules in `drop` are removed from
 * the base first. A value of the wrong type is kept as the child wrote it, for the
 * validator to name. `where` names the child in an error.
 */
export function mergePolicyDocuments(
  base: Doc,
  child: Doc,
  drop: readonly string[],
  where: string,
): Doc {
  const out: Doc = { ...base, ...child };
  if (base.agent !== undefined || child.agent !== undefined) {
    out.agent = { ...table(base.agent), ...table(child.agent) };
  }
  if (base.labels !== undefined || child.labels !== undefined) {
    const b = table(base.labels);
    const c = table(child.labels);
    const labels: Doc = { ...b, ...c };
    for (const key of ['sources', 'structure']) {
      if (b[key] !== undefined || c[key] !== undefined) {
        labels[key] = { ...table(b[key]), ...table(c[key]) };
      }
    }
    out.labels = labels;
  }
  if (base.sinks !== undefined || child.sinks !== undefined) {
    const b = table(base.sinks);
    const c = table(child.sinks);
    const sinks: Doc = { ...b };
    for (const [sink, patterns] of Object.entries(c)) sinks[sink] = appended(b[sink], patterns);
    out.sinks = sinks;
  }
  if (base.capabilities !== undefined || child.capabilities !== undefined) {
    const b = table(base.capabilities);
    const c = table(child.capabilities);
    const grant = appended(b.grant, c.grant);
    out.capabilities = { ...b, ...c, ...(grant === undefined ? {} : { grant }) };
  }
  if (base.anchors !== undefined || child.anchors !== undefined) {
    const b = table(base.anchors);
    const c = table(child.anchors);
    const anchors: Doc = { ...b, ...c };
    if (b.headers !== undefined || c.headers !== undefined) {
      anchors.headers = { ...table(b.headers), ...table(c.headers) };
    }
    for (const key of ['files', 'git', 'http']) {
      const joined = appended(b[key], c[key]);
      if (joined !== undefined) anchors[key] = joined;
    }
    out.anchors = anchors;
  }
  // A server's sandbox profile is the child's where it names that server.
  if (base.sandbox !== undefined || child.sandbox !== undefined) {
    out.sandbox = { ...table(base.sandbox), ...table(child.sandbox) };
  }
  if (base.rules !== undefined || child.rules !== undefined || drop.length > 0) {
    const dropped = new Set(drop);
    let rules: unknown[] = rulesOf(base).filter((rule) => !dropped.has(rule.id as string));
    const last = rules.at(-1);
    const added: unknown[] = [];
    for (const rule of Array.isArray(child.rules) ? child.rules : []) {
      const { before, ...own } = table(rule);
      const at = rules.findIndex((r) => table(r).id === own.id);
      if (at !== -1) rules[at] = before === undefined ? rule : own;
      else if (before === undefined) added.push(rule);
      else {
        const anchor = rules.findIndex((r) => table(r).id === before);
        if (anchor === -1) throw unknownAnchor(where, own.id, before);
        rules = [...rules.slice(0, anchor), own, ...rules.slice(anchor)];
      }
    }
    if (!Array.isArray(child.rules) && child.rules !== undefined) out.rules = child.rules;
    else {
      const end = last === undefined ? rules.length : rules.indexOf(last);
      out.rules = [...rules.slice(0, end), ...added, ...rules.slice(end)];
    }
  }
  return out;
}

/** Two lists joined, the base's first; otherwise the child's value, as it wrote it. */
function appended(base: unknown, child: unknown): unknown {
  return Array.isArray(base) && Array.isArray(child) ? [...base, ...child] : (child ?? base);
}

function unknownAnchor(where: string, id: unknown, before: unknown): AgentkError {
  return new AgentkError(
    'POLICY_INVALID',
    `${where}: rule ${JSON.stringify(id)}: before = ${JSON.stringify(before)} names no rule of what the policy extends`,
  );
}
