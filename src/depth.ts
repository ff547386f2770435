// How deeply a parsed value nests, checked before anything recursive walks it, and whether
// it holds a number JSON.parse rounded. A leaf module: configuration documents and
// JSON-RPC messages both use it.
// Input distrusted: any parsed value.

/** Whether objects or arrays nest `limit` levels or deeper. Iterative: no stack overflow. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Whether a parsed JSON text held a number JavaScript cannot carry exactly (an integer
 * beyond 2^53, which JSON.parse rounds: 9876543210987654321 becomes 9876543210987655000).
 * `text` is the source: only a text with a 16-digit run or an exponent can hold one, so
 * most messages are not walked. Iterative.
 */
export function holdsInexactNumber(text: string, value: unknown): boolean {
  if (!/\d{16}|\d[eE][+]?\d/.test(text)) return false;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'number' && Math.abs(item) > Number.MAX_SAFE_INTEGER) return true;
    // One push each: spreading a large array into push() would overflow the call stack.
    if (typeof item === 'object' && item !== null)
      for (const child of Object.values(item)) stack.push(child);
  }
  return false;
}
