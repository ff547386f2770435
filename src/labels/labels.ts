// The Context MMU label lattice. Six labels on two axes: integrity (trusted vs untrusted,
// external, poisoned-suspect) and confidentiality (private, secret). Sets are bitmasks so
// that joins and policy checks are single integer operations on the hot path.
// Input distrusted: any label string from outside the kernel (checked by isLabel).

export const LABELS = [
  'trusted',
  'untrusted',
  'external',
  'private',
  'secret',
  'poisoned-suspect',
] as const;

export type Label = (typeof LABELS)[number];

/** A normalised label set as a bitmask (bit i = LABELS[i]). */
export type LabelMask = number;

const BIT = new Map<Label, number>(LABELS.map((label, i) => [label, 1 << i]));

export const TRUSTED: LabelMask = 1 << 0;
export const UNTRUSTED: LabelMask = 1 << 1;
export const EXTERNAL: LabelMask = 1 << 2;
export const PRIVATE: LabelMask = 1 << 3;
export const SECRET: LabelMask = 1 << 4;
export const POISONED: LabelMask = 1 << 5;
/** Integrity taints: any of these removes `trusted` from a join. */
export const INTEGRITY_TAINT: LabelMask = UNTRUSTED | EXTERNAL | POISONED;
export const ALL_LABELS: LabelMask = (1 << LABELS.length) - 1;
export const NO_LABELS: LabelMask = 0;

export function isLabel(value: unknown): value is Label {
  return typeof value === 'string' && BIT.has(value as Label);
}

export function labelBit(label: Label): LabelMask {
  return BIT.get(label) ?? 0;
}

/** `trusted` cannot coexist with an integrity taint. */
export function normalizeMask(mask: LabelMask): LabelMask {
  return mask & INTEGRITY_TAINT ? mask & ~TRUSTED : mask;
}

export function isNormalizedMask(mask: LabelMask): boolean {
  return normalizeMask(mask) === mask && (mask & ~ALL_LABELS) === 0;
}

/** Join of two label sets: union, then `trusted` drops out if any integrity taint joined. */
export function joinMasks(a: LabelMask, b: LabelMask): LabelMask {
  return normalizeMask(a | b);
}

/** `a` flows to `b` when `b` is at least as restrictive: join(a, b) === b. */
export function flowsTo(a: LabelMask, b: LabelMask): boolean {
  return joinMasks(a, b) === b;
}

export function maskOf(labels: Iterable<Label>): LabelMask {
  let mask = 0;
  for (const label of labels) mask |= labelBit(label);
  return normalizeMask(mask);
}

const LIST_CACHE: (readonly Label[])[] = [];
for (let mask = 0; mask <= ALL_LABELS; mask++) {
  LIST_CACHE.push(Object.freeze(LABELS.filter((_, i) => mask & (1 << i))));
}

/** The labels of a mask in canonical (declaration) order; a frozen, shared array. */
export function labelsOf(mask: LabelMask): readonly Label[] {
  return LIST_CACHE[mask & ALL_LABELS] ?? [];
}

export function joinLabels(...sets: readonly (readonly Label[])[]): readonly Label[] {
  let mask = 0;
  for (const set of sets) mask = joinMasks(mask, maskOf(set));
  return labelsOf(mask);
}

/**
 * Labels a caller (an agent, a client, a server) may attach: they only ever add
 * restrictions. `trusted` is a claim, not a restriction, so it is dropped.
 */
export function restrictionsOnly(mask: LabelMask): LabelMask {
  return mask & ~TRUSTED;
}

/** Every normalised label set, for exhaustive checks (policy reachability, policy diff). */
export function allNormalizedMasks(): LabelMask[] {
  const out: LabelMask[] = [];
  for (let mask = 0; mask <= ALL_LABELS; mask++) if (isNormalizedMask(mask)) out.push(mask);
  return out;
}

/**
 * Every possible (labels, control labels) pair of a syscall: both normalised, and the
 * control labels' restrictions a subset of the labels (control arguments are part of the
 * syscall). Used by exhaustive checks; `trusted` may sit in the control labels alone.
 */
export function allLabelStates(): (readonly [LabelMask, LabelMask])[] {
  const masks = allNormalizedMasks();
  const out: (readonly [LabelMask, LabelMask])[] = [];
  for (const labels of masks) {
    for (const control of masks) {
      if ((control & ~TRUSTED & ~labels) === 0) out.push([labels, control]);
    }
  }
  return out;
}
