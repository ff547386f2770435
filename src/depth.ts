// How deeply a parsed value nests, checked before anything recursive walks it. A leaf
// module: configuration documents and JSON-RPC messages both use it.
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
