// The secrets stage: credential material never reaches the model raw. In content headed
// to the model, each secret found (by its format, as a configured store's value, or as a
// value captured earlier and coming back alone) is replaced by an opaque, signed secret
// handle, each one a `secret.open` syscall the policy decides. A handle's bytes go back
// only to an allowed, non-egress syscall in its scope, once per receipt.
// Input distrusted: all content scanned, and every handle id an agent sends back.

import { AgentkError } from '../../errors.js';
import { globMatch } from '../../policy/glob.js';
import {
  findSecrets,
  isCredentialMember,
  REDACTED,
  replaceSpans,
  type Span,
} from '../../provenance/detect.js';
import { decodedBlob } from '../../provenance/values.js';
import type { SecretHandleRecord } from '../../recorder/event.js';
import { CapturedSecretStore, type SecretStore } from '../../secrets/store.js';
import { SINK_EGRESS, type SinkMask } from '../../vocabulary.js';
import type { Refusal } from '../analysis/analysis.js';
import { walkAnswer } from '../content.js';
import { loggable } from '../loggable.js';
import type { SecretOpenRequest } from '../types.js';

/**
 * Captured secrets looked for, raw, in everything headed to the client (each costs a scan
 * of every answer). Beyond this many, later captures are found only by their patterns.
 */
const MAX_KNOWN_ECHOES = 10_000;
/**
 * A secret captured in an answer is replaced wherever else it stands in that answer, if it
 * is at least this long (shorter ones would match ordinary words).
 */
const MIN_FRESH_ECHO = 6;
/**
 * Distinct secrets one run captures at most (each is held in memory, and indexed raw and
 * encoded, for the whole run: a few KB each). Beyond, a new secret is withheld: replaced by
 * WITHHELD, never shown, its `secret.open` denied by rule `kernel.secret-budget`.
 */
export const MAX_CAPTURED_SECRETS = 2_000;
/** Characters of captured secrets one run holds at most, and of one secret (PEM blocks). */
export const MAX_CAPTURED_CHARS = 4 * 1024 * 1024;
export const MAX_SECRET_CHARS = 64 * 1024;
/** Target of a withheld value looked for again on its own (never opened, never a handle). */
const WITHHELD_TARGET = '';
/** Live handles kept for redemption; beyond, the expired and then the oldest go. */
export const MAX_LIVE_HANDLES = 65_536;
/** What stands in the content for a secret over the budget. */
export const WITHHELD = '[secret withheld: secret budget spent]';
/** JSON Schema members whose value is an instance of the property that holds them. */
const SCHEMA_VALUES = new Set(['default', 'const', 'example']);

interface IssuedHandle {
  readonly record: SecretHandleRecord;
  readonly store: SecretStore;
  readonly expiresAt: number;
}

/** What revealing a handle needs of the receipt of the syscall that uses it. */
export interface RevealingReceipt {
  readonly scope: string;
  readonly expiresAt: number;
  readonly sinks: SinkMask;
  readonly handles: readonly string[];
  revealed: Set<string> | null;
}

/**
 * Opens a secret for content headed to the model: the `secret.open` syscall, decided and
 * recorded; the handle minted, or null when the policy would not open it.
 */
export type OpenSecret = (
  request: SecretOpenRequest,
  value: string,
  refusal: Refusal | null,
) => SecretHandleRecord | null;

/** How much a vault holds at most (the defaults are documented above). */
export interface VaultLimits {
  readonly maxCaptured: number;
  readonly maxLiveHandles: number;
  readonly maxChars?: number;
}

/** What capturing the secrets of a value gives back. */
export interface Captured {
  /** The value with every secret it held replaced by its handle (shared when unchanged). */
  readonly content: unknown;
  readonly handles: readonly SecretHandleRecord[];
  /** The text of `content`, as textOf() reads it (null: too large to scan). */
  readonly text: string | null;
  /** A secret the policy would not open stayed in `content` as it was. */
  readonly unopened: boolean;
  /** Why a secret was withheld (the budget was spent), or null. */
  readonly withheld: Refusal | null;
}

/**
 * Where the known secret values occur in a text; with `whole`, only where a value stands
 * on its own (no letter or digit right before or after it).
 */
function knownSpans(text: string, known: ReadonlyMap<string, string>, whole = false): Span[] {
  const spans: Span[] = [];
  const alnum = (i: number) => i >= 0 && i < text.length && /[A-Za-z0-9]/.test(text[i] as string);
  for (const value of known.keys()) {
    for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + value.length)) {
      if (whole && (alnum(at - 1) || alnum(at + value.length))) continue;
      spans.push({ start: at, end: at + value.length });
    }
  }
  return spans;
}

export class SecretVault {
  readonly #stores: readonly SecretStore[];
  readonly #captured = new CapturedSecretStore();
  /**
   * Captured secrets worth finding again on their own, by value -> target (first capture
   * wins): a captured password that comes back without its `password:` line (echoed,
   * written and read back) is still a secret. Only values that look like secrets (8 or
   * more characters, letters and digits) count, so that `password: string` does not turn
   * every later `string` into a handle. Grown as secrets are captured, up to a bound.
   */
  readonly #echoes = new Map<string, string>();
  readonly #handles = new Map<string, IssuedHandle>();
  /**
   * Every captured value (of MIN_FRESH_ECHO characters or more, longest first), by its
   * first MIN_FRESH_ECHO characters: what the log keeps verbatim (targets, intents,
   * reasons) loses them, whatever form the text around them has. Bounded like the echoes.
   */
  readonly #logIndex = new Map<string, string[]>();
  #logged = 0;
  /** Characters of the captured secrets held. */
  #chars = 0;
  readonly #limits: VaultLimits;

  constructor(
    stores: readonly SecretStore[],
    limits: VaultLimits = { maxCaptured: MAX_CAPTURED_SECRETS, maxLiveHandles: MAX_LIVE_HANDLES },
  ) {
    this.#stores = stores;
    this.#limits = limits;
  }

  /** The store that holds a target (configured stores first, then captured secrets). */
  storeFor(target: string): SecretStore | undefined {
    return (
      this.#stores.find((store) => store.has(target)) ??
      (this.#captured.has(target) ? this.#captured : undefined)
    );
  }

  /** A handle the kernel minted, now live. */
  issue(record: SecretHandleRecord, store: SecretStore, expiresAt: number, now: number): void {
    this.#handles.set(record.id, { record, store, expiresAt });
    if (this.#handles.size > this.#limits.maxLiveHandles) this.#prune(now);
  }

  /**
   * Drop expired handles, then the oldest, down to seven eighths of the limit: a handle
   * pruned is unknown from then on, and redeeming it fails (closed).
   */
  #prune(now: number): void {
    for (const [id, handle] of this.#handles) {
      if (handle.expiresAt < now) this.#handles.delete(id);
    }
    const target = this.#limits.maxLiveHandles - Math.floor(this.#limits.maxLiveHandles / 8);
    for (const id of this.#handles.keys()) {
      if (this.#handles.size <= target) break;
      this.#handles.delete(id);
    }
  }

  /** The record of a handle this kernel issued. */
  handle(id: string): SecretHandleRecord | undefined {
    return this.#handles.get(id)?.record;
  }

  /**
   * Why an allowed syscall may not take these handles, or null: a suspect tool, an
   * unknown or expired handle, an egress sink, a capability outside a handle's scope.
   */
  problem(
    handles: readonly string[],
    capability: string,
    sinks: SinkMask,
    suspect: boolean,
    now: number,
  ): string | null {
    if (suspect) {
      return "the tool's own description looks like a prompt injection; no secret is revealed to it";
    }
    for (const id of handles) {
      const handle = this.#handles.get(id);
      if (!handle) return 'unknown handle';
      if (handle.expiresAt < now) return 'the handle has expired';
      if (sinks & SINK_EGRESS) return 'secrets are never revealed to an egress sink';
      if (!handle.record.scope.some((pattern) => globMatch(pattern, capability))) {
        return `${loggable(capability, 200)} is outside the handle's scope`;
      }
    }
    return null;
  }

  /**
   * The bytes behind a handle, for the allowed syscall that used it (see Kernel.revealSecret).
   * Throws HANDLE_INVALID, naming why, for anything else.
   */
  reveal(handleId: string, issued: RevealingReceipt | undefined, now: number): Uint8Array {
    const handle = this.#handles.get(handleId);
    const refuse = (why: string): never => {
      throw new AgentkError('HANDLE_INVALID', `secret handle cannot be redeemed: ${why}`);
    };
    if (!handle) return refuse('unknown handle');
    if (handle.expiresAt < now) return refuse('the handle has expired');
    if (!issued || issued.expiresAt < now) return refuse('unknown or expired receipt');
    if (!issued.handles.includes(handleId))
      return refuse('the receipt’s syscall did not take this handle');
    if (issued.sinks & SINK_EGRESS) return refuse('secrets are never revealed to an egress sink');
    if (issued.revealed?.has(handleId)) return refuse('already revealed for this receipt');
    if (!handle.record.scope.some((pattern) => globMatch(pattern, issued.scope))) {
      return refuse(`${issued.scope} is outside the handle's scope`);
    }
    const bytes = handle.store.read(handle.record.target);
    if (bytes === null) return refuse('the store no longer has this secret');
    issued.revealed ??= new Set();
    issued.revealed.add(handleId);
    return bytes;
  }

  /**
   * Replace credential material in content headed to the model with secret handles, each
   * opened by `open` (so the policy decides, and the log shows it), scoped by default to
   * the server that produced it. A secret the policy will not open stays in place (the
   * content, still secret, is then refused by the syscall that carries it). The value is
   * walked once: with `collect`, its text comes back with it.
   */
  capture(content: unknown, source: string, open: OpenSecret, collect = false): Captured {
    const known = this.#knownSecretValues();
    // The echoes known when the call began; what it captures joins them when it ends.
    const echoes = this.#echoes;
    const captured: [string, string][] = [];
    // Each distinct value's replacement in this answer: its handle's id, WITHHELD, or the
    // value itself when the policy would not open it.
    const replaced = new Map<string, string>();
    const handles: SecretHandleRecord[] = [];
    let unopened = false;
    let withheld: Refusal | null = null;
    const server = source.includes('/') ? source.slice(0, source.indexOf('/')) : source;
    const request = (target: string): SecretOpenRequest => ({
      kind: 'secret.open',
      target,
      scope: [`tool.invoke:${server}/*`],
      intent: `credential material in content from ${source}`,
    });
    const replace = (value: string): string => {
      let replacement = replaced.get(value);
      if (replacement !== undefined) return replacement;
      let target = known.get(value) ?? echoes.get(value) ?? this.#captured.targetOf(source, value);
      const over = target === undefined ? this.#overBudget(value) : null;
      if (over !== null || target === WITHHELD_TARGET) {
        if (over !== null) {
          withheld = { rule: 'kernel.secret-budget', reason: over };
          open(request(`secret://captured/${source}/over-budget`), value, withheld);
          captured.push([value, WITHHELD_TARGET]); // replaced wherever else it stands
        }
        replaced.set(value, WITHHELD);
        return WITHHELD;
      }
      if (target === undefined) {
        target = this.#captured.add(source, value);
        this.#chars += value.length;
        captured.push([value, target]);
      }
      const handle = open(request(target), value, null);
      if (handle) handles.push(handle);
      else unopened = true;
      replacement = handle?.id ?? value;
      replaced.set(value, replacement);
      return replacement;
    };
    const redact = (text: string): string =>
      replaceSpans(
        text,
        [...findSecrets(text), ...knownSpans(text, known), ...knownSpans(text, echoes, true)],
        replace,
      );
    // A member is judged by its name and value together (`"password": "…"`), a schema's
    // default or example by the property it describes; text inside a base64 blob is
    // redacted too, and re-encoded.
    const redactMember = (text: string, key: string | undefined, owner?: string): string => {
      const holder = key !== undefined && SCHEMA_VALUES.has(key) ? owner : key;
      if (holder !== undefined && isCredentialMember(holder, text)) {
        return replace(text);
      }
      const decoded = key === 'blob' ? decodedBlob(text) : null;
      if (decoded === null) return redact(text);
      const redacted = redact(decoded.text);
      return redacted === decoded.text
        ? text
        : Buffer.from(redacted, decoded.encoding).toString('base64');
    };
    let walked = walkAnswer(content, redactMember, undefined, collect);
    if (captured.length > 0) {
      // Capture first, then redact: a secret found in one place of the answer (the JSON
      // text) is replaced wherever else it stands in it (the same object as
      // structuredContent), before any of it goes out. Its handle is the one just minted.
      const fresh = new Map(captured.filter(([value]) => value.length >= MIN_FRESH_ECHO));
      const again = (text: string): string =>
        replaceSpans(text, knownSpans(text, fresh, true), replace);
      if (fresh.size > 0) walked = walkAnswer(walked.value, again, undefined, collect);
    }
    this.#remember(captured);
    return { content: walked.value, handles, text: walked.text, unopened, withheld };
  }

  /**
   * A text the log keeps verbatim, with every secret captured so far replaced by
   * `[redacted-secret]` (credential formats are loggable()'s). Linear in the text.
   */
  scrub(text: string): string {
    if (this.#logIndex.size === 0 || text.length < MIN_FRESH_ECHO) return text;
    const spans: Span[] = [];
    for (let i = 0; i + MIN_FRESH_ECHO <= text.length; ) {
      const candidates = this.#logIndex.get(text.slice(i, i + MIN_FRESH_ECHO));
      const hit = candidates?.find((value) => text.startsWith(value, i));
      if (hit === undefined) i += 1;
      else {
        spans.push({ start: i, end: i + hit.length });
        i += hit.length;
      }
    }
    return replaceSpans(text, spans, () => REDACTED);
  }

  /** Why a new secret cannot be held (the budget is spent), or null. */
  #overBudget(value: string): string | null {
    const { maxCaptured, maxChars = MAX_CAPTURED_CHARS } = this.#limits;
    if (value.length > MAX_SECRET_CHARS) {
      return `a secret of ${value.length} characters is more than one secret AgentK holds (${MAX_SECRET_CHARS}); it is withheld from the client`;
    }
    if (this.#captured.size < maxCaptured && this.#chars + value.length <= maxChars) return null;
    return `this run has captured as many secrets as it holds (${maxCaptured} secrets, ${maxChars} characters); a new one is withheld from the client (start a new session to capture more)`;
  }

  /**
   * Captured values that look like secrets are looked for again, on their own (withheld
   * ones too, to be withheld again); those the log might keep are scrubbed from it.
   */
  #remember(captured: readonly [string, string][]): void {
    for (const [value, target] of captured) {
      if (target === WITHHELD_TARGET) continue;
      if (value.length < MIN_FRESH_ECHO || this.#logged >= MAX_KNOWN_ECHOES) continue;
      const key = value.slice(0, MIN_FRESH_ECHO);
      const values = this.#logIndex.get(key) ?? [];
      if (values.includes(value)) continue;
      values.push(value);
      values.sort((a, b) => b.length - a.length);
      this.#logIndex.set(key, values);
      this.#logged += 1;
    }
    const echoes = this.#echoes;
    for (const [value, target] of captured) {
      if (echoes.size >= MAX_KNOWN_ECHOES) break;
      if (value.length > MAX_SECRET_CHARS) continue;
      if (value.length >= 8 && /\d/.test(value) && /[A-Za-z]/.test(value) && !echoes.has(value)) {
        echoes.set(value, target);
      }
    }
  }

  /** Values of configured stores that can list their targets, by value. */
  #knownSecretValues(): Map<string, string> {
    const known = new Map<string, string>();
    for (const store of this.#stores) {
      for (const target of store.targets?.() ?? []) {
        const bytes = store.read(target);
        if (bytes && bytes.length >= 6) known.set(Buffer.from(bytes).toString('utf8'), target);
      }
    }
    return known;
  }
}
