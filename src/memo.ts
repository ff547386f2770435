// A bounded memo for pure functions of a string (a tool target, a source name): the
// kernel asks the same few questions about the same few targets on every call. Keys can
// come from a server, so the table is capped: past the cap it starts over.

export function memoized<T>(compute: (key: string) => T, capacity = 4096): (key: string) => T {
  const table = new Map<string, T>();
  return (key) => {
    const known = table.get(key);
    if (known !== undefined || table.has(key)) return known as T;
    const value = compute(key);
    if (table.size >= capacity) table.clear();
    table.set(key, value);
    return value;
  };
}

/**
 * `new Date(ms).toISOString()`, kept for the last millisecond asked: the kernel stamps
 * every event and receipt, and several calls fall in one millisecond. One per call site (an
 * event's time and a receipt's expiry differ, and would push each other out).
 */
export function isoTimeText(): (ms: number) => string {
  let last = Number.NaN;
  let text = '';
  return (ms) => {
    if (ms !== last) {
      text = new Date(ms).toISOString(); // throws for an invalid time, remembering nothing
      last = ms;
    }
    return text;
  };
}
